import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Doc } from "../../../src/store/port.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

let ctl: TestController;
let token: string;
beforeAll(async () => {
  ctl = await startTestController("", (c) => {
    c.networks = [{ name: "main", lobbyGroup: "lobby" }];
    c.security.jwtSecret = Buffer.alloc(32, 3).toString("base64");
  });
  token = await ctl.login();
});
afterAll(() => ctl.stop());

const post = (path: string, body: unknown) => ctl.call("POST", path, { token, body });
async function errorMessage(res: Response): Promise<string> {
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe("groups", () => {
  test("create fills the documented defaults, stamps the fence, and lists with the envelope", async () => {
    const res = await post("/api/v1/groups", { name: "lobby", minInstances: 1 });
    expect(res.status).toBe(201);
    const group = (await res.json()) as Record<string, unknown>;
    expect(group).toMatchObject({
      name: "lobby",
      platform: "PAPER",
      scalingMode: "DYNAMIC",
      minInstances: 1,
      maxInstances: 10,
      maxPlayers: 100,
      scaleUpThreshold: 0.8,
      portRangeStart: 30000,
      portRangeEnd: 30100,
      memoryMb: 1024,
      dependsOn: [],
    });
    const stored = await ctl.running.store.collection<Doc>("groups").get("lobby");
    expect(stored?._fence?.scope).toBe("group-config:lobby");
    const list = (await (
      await ctl.call("GET", "/api/v1/groups?page=1&pageSize=10", { token })
    ).json()) as Record<string, unknown>;
    expect(list).toMatchObject({ page: 1, pageSize: 10, total: 1 });
    expect((await post("/api/v1/groups", { name: "lobby" })).status).toBe(409);
  });

  test("bad fields are refused at the write with the field named", async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ name: "a", minInstances: 5, maxInstances: 2 }, 422, "minInstances (5) exceeds maxInstances (2)"],
      [{ name: "b", dependsOn: ["ghost"] }, 422, 'dependsOn: unknown group "ghost"'],
      [{ name: "c", portRangeStart: 40000, portRangeEnd: 30000 }, 422, "port range 40000–30000 is empty"],
      [{ name: "d", templates: ["base-paper"] }, 422, "added to the chain automatically"],
      [
        { name: "e", nodeAffinity: ["zone=eu"], nodeAntiAffinity: ["zone=eu"] },
        422,
        "both required and forbidden",
      ],
      [{ name: "Bad Name" }, 422, "name"],
      [{ name: "f", scalingMode: "SOMETIMES" }, 422, "scalingMode"],
      [{ name: "g", bogus: true }, 422, ""],
    ];
    for (const [body, status, text] of cases) {
      const res = await post("/api/v1/groups", body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(await errorMessage(res)).toContain(text);
    }
  });

  test("a dependency cycle is refused with the cycle named", async () => {
    expect((await post("/api/v1/groups", { name: "proxy" })).status).toBe(201);
    expect((await post("/api/v1/groups", { name: "hub", dependsOn: ["proxy"] })).status).toBe(201);
    const res = await ctl.call("PATCH", "/api/v1/groups/proxy", { token, body: { dependsOn: ["hub"] } });
    expect(res.status).toBe(422);
    expect(await errorMessage(res)).toContain("dependency cycle: proxy → hub → proxy");
  });

  test("patch merges the fields given, is audited, and delete is refused while referenced", async () => {
    const patched = await ctl.call("PATCH", "/api/v1/groups/proxy", {
      token,
      body: { maxInstances: 4, maintenance: true },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      name: "proxy",
      maxInstances: 4,
      maintenance: true,
      minInstances: 0,
    });
    expect((await ctl.call("PATCH", "/api/v1/groups/proxy", { token, body: {} })).status).toBe(422);
    const audit = (await (await ctl.call("GET", "/api/v1/audit?action=group.update", { token })).json()) as {
      data: Array<{ before: { maxInstances: number }; after: { maxInstances: number } }>;
    };
    expect(audit.data[0]).toMatchObject({ before: { maxInstances: 10 }, after: { maxInstances: 4 } });
    const refused = await ctl.call("DELETE", "/api/v1/groups/proxy", { token });
    expect(refused.status).toBe(409);
    expect(await errorMessage(refused)).toContain("hub");
    expect((await ctl.call("DELETE", "/api/v1/groups/hub", { token })).status).toBe(200);
    expect((await ctl.call("DELETE", "/api/v1/groups/proxy", { token })).status).toBe(200);
    const gone = await ctl.call("GET", "/api/v1/groups/proxy", { token });
    expect(gone.status).toBe(404);
    // the resource's own message, not the unknown-route one
    expect(await errorMessage(gone)).toBe('group "proxy" not found');
  });

  test("resolved merges the parent chain, child overriding", async () => {
    await post("/api/v1/groups", {
      name: "_base",
      memoryMb: 2048,
      jvmArgs: ["-XX:+UseG1GC"],
      env: { A: "1", B: "1" },
    });
    await post("/api/v1/groups", { name: "bedwars", parent: "_base", env: { B: "2" }, maxPlayers: 16 });
    const resolved = (await (
      await ctl.call("GET", "/api/v1/groups/bedwars/resolved", { token })
    ).json()) as Record<string, unknown>;
    expect(resolved).toMatchObject({
      name: "bedwars",
      memoryMb: 2048,
      maxPlayers: 16,
      jvmArgs: ["-XX:+UseG1GC"],
      env: { A: "1", B: "2" },
      inheritanceChain: ["_base", "bedwars"],
    });
  });
});

describe("networks and maintenance", () => {
  test("controller.yml networks are seeded once on first start", async () => {
    const list = (await (await ctl.call("GET", "/api/v1/networks", { token })).json()) as {
      data: Array<{ name: string }>;
    };
    expect(list.data.map((n) => n.name)).toEqual(["main"]);
  });

  test("network writes check references, names and duplicates", async () => {
    expect((await post("/api/v1/networks", { name: "eu", lobbyGroup: "nowhere" })).status).toBe(422);
    expect(
      (await post("/api/v1/networks", { name: "eu", lobbyGroup: "lobby", fallbackGroups: ["bedwars"] }))
        .status,
    ).toBe(201);
    expect((await post("/api/v1/networks", { name: "eu", lobbyGroup: "lobby" })).status).toBe(409);
    const mismatch = await ctl.call("PUT", "/api/v1/networks/eu", {
      token,
      body: { name: "us", lobbyGroup: "lobby" },
    });
    expect(mismatch.status).toBe(422);
    const put = await ctl.call("PUT", "/api/v1/networks/eu", {
      token,
      body: { name: "eu", lobbyGroup: "bedwars" },
    });
    expect(await put.json()).toMatchObject({
      name: "eu",
      lobbyGroup: "bedwars",
      fallbackGroups: [],
      forcedHosts: {},
    });
    // Forced hosts name a hostname and a group that exists.
    const hosts = await ctl.call("PUT", "/api/v1/networks/eu", {
      token,
      body: { name: "eu", lobbyGroup: "lobby", forcedHosts: { "bedwars.example.com": "bedwars" } },
    });
    expect(await hosts.json()).toMatchObject({ forcedHosts: { "bedwars.example.com": "bedwars" } });
    const unknownHostGroup = await ctl.call("PUT", "/api/v1/networks/eu", {
      token,
      body: { name: "eu", lobbyGroup: "lobby", forcedHosts: { "x.example.com": "nowhere" } },
    });
    expect(unknownHostGroup.status).toBe(422);
    const badHost = await ctl.call("PUT", "/api/v1/networks/eu", {
      token,
      body: { name: "eu", lobbyGroup: "lobby", forcedHosts: { "not a host!": "lobby" } },
    });
    expect(badHost.status).toBe(422);
    expect((await ctl.call("DELETE", "/api/v1/networks/eu", { token })).status).toBe(200);
  });

  test("global maintenance starts from controller.yml and is switched over REST", async () => {
    expect(await (await ctl.call("GET", "/api/v1/maintenance", { token })).json()).toEqual({
      enabled: false,
      message: "The network is currently under maintenance.",
    });
    const put = await ctl.call("PUT", "/api/v1/maintenance", {
      token,
      body: { enabled: true, message: "back at 4" },
    });
    expect(await put.json()).toEqual({ enabled: true, message: "back at 4" });
    expect(await (await ctl.call("GET", "/api/v1/maintenance", { token })).json()).toEqual({
      enabled: true,
      message: "back at 4",
    });
  });

  test("settings show the effective configuration with secrets masked", async () => {
    const settings = (await (await ctl.call("GET", "/api/v1/system/settings", { token })).json()) as {
      security: { jwtSecret: string; initialAdminPassword: string };
      http: { port: number };
    };
    expect(settings.security.jwtSecret).toBe("***");
    expect(settings.security.initialAdminPassword).toBe("***");
    expect(JSON.stringify(settings)).not.toContain(Buffer.alloc(32, 3).toString("base64"));
  });
});
