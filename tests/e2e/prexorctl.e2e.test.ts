import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { listCommands } from "../../src/cli/command-tree.ts";
import { ctlCommand } from "../../src/roles/ctl.ts";
import { tempDir } from "../support/adapters.ts";
import {
  ctlPath,
  ensureBinary,
  type RunResult,
  repoRoot,
  runBinary,
  startBinary,
} from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { randomId, waitFor } from "../support/wait.ts";

/**
 * prexorctl end to end: the compiled binary, invoked as `prexorctl`, against a real controller
 * (`prexor up` in its own process: an in-process controller could not answer while spawnSync
 * blocks this process). A test whose commands call a route the controller does not serve fails,
 * naming the missing routes (read from the controller's own /api/v1/openapi.json).
 */
ensureBinary();
// Each test runs the binary a few times; on a loaded 2-core box that is seconds, not milliseconds.
setDefaultTimeout(60_000);

const PASSWORD = "correct-horse-battery";
const root = tempDir("prexorctl-e2e-");
mkdirSync(join(root, "config"));
writeFileSync(
  join(root, "config/controller.yml"),
  [
    "security:",
    `  initialAdminPassword: ${PASSWORD}`,
    "  rateLimiting:",
    "    perIpPerMinute: 100000",
    "    perUserPerMinute: 100000",
    "    loginPerIpPerMinute: 100000",
    "",
  ].join("\n"),
);
const port = await freePort();
const controller = startBinary([
  "up",
  "--dir",
  root,
  "--port",
  String(port),
  "--grpc-port",
  String(await freePort()),
]);
afterAll(async () => {
  await controller.stop();
});
const server = `http://127.0.0.1:${port}`;
await waitFor(async () => (await fetch(`${server}/api/v1/system/ready`).catch(() => null))?.status === 200, {
  timeoutMs: 30_000,
  what: `controller ready\n${controller.output()}`,
});
// The admin user is created just after the listener is up; its password file is written last.
await waitFor(() => existsSync(join(root, "config/.initial-admin-password")), {
  what: "the bootstrap admin",
});

const openapi = (await (await fetch(`${server}/api/v1/openapi.json`)).json()) as {
  paths: Record<string, Record<string, unknown>>;
};
const served = new Set(
  Object.entries(openapi.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  ),
);

/** The routes among `routes` the controller does not serve (per its own OpenAPI document). */
function missingRoutes(routes: string[]): string[] {
  return routes.filter((r) => !served.has(r));
}

/** A fresh operator: own config dir, no PREXOR_* variables leaking in from the environment. */
function newHome(): string {
  return tempDir("prexorctl-home-");
}

function ctl(
  home: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): RunResult {
  return runBinary(args, {
    bin: ctlPath,
    input: options.input,
    timeoutMs: options.timeoutMs ?? 30_000,
    env: {
      XDG_CONFIG_HOME: home,
      PREXOR_TOKEN: "",
      PREXOR_CONTROLLER: "",
      PREXOR_CONTEXT: "",
      PREXOR_OUTPUT: "",
      ...options.env,
    },
  });
}

function ok(result: RunResult): RunResult {
  if (result.code !== 0)
    throw new Error(`exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

function json<T>(result: RunResult): T {
  return JSON.parse(ok(result).stdout) as T;
}

function loggedIn(): string {
  const home = newHome();
  ok(
    ctl(home, ["login", "--server", server, "--username", "admin", "--password-stdin"], {
      input: `${PASSWORD}\n`,
    }),
  );
  return home;
}

const configFile = (home: string) => join(home, "prexorctl", "config.yml");
const storedToken = (home: string) =>
  (parse(readFileSync(configFile(home), "utf8")) as { contexts: Record<string, { token?: string }> }).contexts
    .default?.token;

describe("an operator session, start to finish", () => {
  const home = newHome();
  const groupFile = join(home, "lobby.yml");
  writeFileSync(
    groupFile,
    [
      "name: lobby",
      "platform: paper",
      "platformVersion: 1.21.4",
      "minInstances: 0",
      "maxInstances: 3",
      "memoryMb: 1536",
      "",
    ].join("\n"),
  );

  test("login reads the password from stdin and keeps the token in a private file", () => {
    const result = ok(
      ctl(home, ["login", "--server", server, "--username", "admin", "--password-stdin"], {
        input: `${PASSWORD}\n`,
      }),
    );
    expect(result.stdout).toContain(`Logged in to ${server} as admin (ADMIN)`);
    expect(statSync(configFile(home)).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "prexorctl")).mode & 0o777).toBe(0o700);
    expect(storedToken(home)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(ok(ctl(home, ["context", "current"])).stdout.trim()).toBe("default");
  });

  test("create a group from YAML, then read it back as a table, JSON, YAML and names", () => {
    expect(ok(ctl(home, ["group", "create", "-f", groupFile])).stdout.trim()).toBe('group "lobby" created');
    const groups = json<Array<{ name: string; platform: string; maxInstances: number; memoryMb: number }>>(
      ctl(home, ["group", "list", "-o", "json"]),
    );
    expect(groups.find((g) => g.name === "lobby")).toMatchObject({
      platform: "PAPER",
      maxInstances: 3,
      memoryMb: 1536,
    });

    const table = ok(ctl(home, ["group", "list"]))
      .stdout.trimEnd()
      .split("\n");
    expect(table[0]).toMatch(
      /^NAME {4}PLATFORM {7}MODE {6}MIN {3}MAX {3}MEMORY {3}MAINTENANCE {3}STATUS +REASON$/,
    );
    // min 0: nothing to place, so no pause; STATUS is the last tick's word ("-" before the first).
    expect(table.find((l) => l.startsWith("lobby "))).toMatch(
      /^lobby {3}PAPER 1\.21\.4 {3}DYNAMIC {3}0 {5}3 {5}1536Mi {3}off {11}(ok|-|waiting)( |$)/,
    );
    expect(ok(ctl(home, ["group", "list", "--no-headers"])).stdout).not.toContain("NAME");
    expect(ok(ctl(home, ["group", "list", "-o", "wide"])).stdout.split("\n")[0]).toContain("TEMPLATES");
    expect(parse(ok(ctl(home, ["group", "info", "lobby", "-o", "yaml"])).stdout)).toMatchObject({
      name: "lobby",
    });
    expect(ok(ctl(home, ["group", "list", "-o", "name"])).stdout).toContain("group/lobby");
    // no terminal, NO_COLOR: not a single escape sequence
    expect(ok(ctl(home, ["group", "list"])).stdout).not.toContain("\x1b[");
  });

  test("update, scale and per-group maintenance change only what they name", () => {
    expect(
      json<{ maxInstances: number; memoryMb: number }>(
        ctl(home, ["group", "update", "lobby", "--max", "6", "-o", "json"]),
      ),
    ).toMatchObject({
      maxInstances: 6,
      memoryMb: 1536,
    });
    expect(ok(ctl(home, ["group", "scale", "lobby", "--min", "1"])).stdout).toContain("scaled to 1..6");
    expect(ok(ctl(home, ["group", "maintenance", "lobby", "on", "--message", "maps"])).stdout).toContain(
      "maintenance on",
    );
    expect(
      json<{ maintenance: boolean; maintenanceMessage: string }>(
        ctl(home, ["group", "info", "lobby", "-o", "json"]),
      ),
    ).toMatchObject({
      maintenance: true,
      maintenanceMessage: "maps",
    });
    ok(ctl(home, ["group", "maintenance", "lobby", "off"]));
  });

  test("the audit log shows who did it", () => {
    const entries = json<Array<{ username: string; action: string; resourceId: string }>>(
      ctl(home, [
        "audit",
        "--resource-type",
        "group",
        "--resource-id",
        "lobby",
        "--since",
        "1h",
        "-o",
        "json",
      ]),
    );
    expect(entries.map((e) => e.action)).toContain("group.create");
    expect(entries.every((e) => e.username === "admin")).toBe(true);
    expect(ok(ctl(home, ["audit", "--actor", "admin"])).stdout.split("\n")[0]).toMatch(
      /^TIME\s+ACTOR\s+ACTION\s+RESOURCE$/,
    );
  });

  test("global maintenance on and off, visible in status", () => {
    expect(ok(ctl(home, ["maintenance", "on", "--message", "back soon"])).stdout).toContain(
      "Global maintenance is on",
    );
    expect(json<{ enabled: boolean; message: string }>(ctl(home, ["maintenance", "-o", "json"]))).toEqual({
      enabled: true,
      message: "back soon",
    });
    const status = ok(ctl(home, ["status"])).stdout;
    expect(status).toContain("Maintenance: on: back soon");
    expect(status).toContain("User:        admin (ADMIN)");
    ok(ctl(home, ["maintenance", "off"]));
    expect(
      json<{ maintenance: { enabled: boolean }; ready: string }>(ctl(home, ["status", "-o", "json"])),
    ).toMatchObject({
      maintenance: { enabled: false },
      ready: "UP",
    });
  });

  test("logout revokes the token on the controller and forgets it", () => {
    const token = storedToken(home)!;
    expect(ok(ctl(home, ["logout"])).stdout).toContain(`Logged out of ${server}`);
    expect(storedToken(home)).toBeUndefined();
    const after = ctl(home, ["group", "list"]);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain("UNAUTHORIZED");
    // the old token is dead on the server too, not just forgotten locally
    const reused = ctl(home, ["group", "list"], { env: { PREXOR_TOKEN: token } });
    expect(reused.code).toBe(3);
    expect(reused.stderr).toContain("UNAUTHORIZED");
  });
});

describe("failures: one clear message and the right exit code", () => {
  const home = loggedIn();

  test("a wrong password exits 3", () => {
    const result = ctl(newHome(), ["login", "--server", server, "-u", "admin", "--password-stdin"], {
      input: "nope-nope\n",
    });
    expect(result.code).toBe(3);
    expect(result.stderr.trim()).toBe("error: UNAUTHORIZED: invalid username or password");
  });

  test("a revoked or forged token exits 3 with a hint to log in", () => {
    const victim = loggedIn();
    const token = storedToken(victim)!;
    ok(ctl(victim, ["logout"]));
    for (const bad of [token, `${token.slice(0, -4)}AAAA`]) {
      const result = ctl(newHome(), ["group", "list", "--server", server], { env: { PREXOR_TOKEN: bad } });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("error: UNAUTHORIZED: the token is invalid, expired or revoked");
      expect(result.stderr).toContain("prexorctl login");
    }
  });

  test("an unknown group exits 4 and says NOT_FOUND", () => {
    const result = ctl(home, ["group", "info", "no-such-group"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('error: NOT_FOUND: group "no-such-group" not found');
  });

  test("bad YAML in -f exits 1 naming the file and line, before anything is sent", () => {
    const file = join(home, "broken.yml");
    writeFileSync(file, "name: broken\ntemplates: [a, b\nmaxInstances: 2\n");
    const syntax = ctl(home, ["group", "create", "-f", file]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(
      new RegExp(`^error: ${file.replaceAll(".", "\\.")}:\\d+:\\d+: invalid YAML`),
    );
    writeFileSync(file, "name: broken\nplatform: PAPER\nmaxInstances: ten\n");
    const schema = ctl(home, ["group", "create", "-f", file]);
    expect(schema.code).toBe(1);
    expect(schema.stderr).toContain(
      `${file}:3: maxInstances: expected an integer from 0 to 10000, got "ten"`,
    );
    expect(ctl(home, ["group", "info", "broken"]).code).toBe(4);
  });

  test("a duplicate group exits 5 with CONFLICT", () => {
    const name = randomId("dup").toLowerCase();
    ok(ctl(home, ["group", "create", name]));
    const again = ctl(home, ["group", "create", name]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain(`error: CONFLICT: group "${name}" already exists`);
    ok(ctl(home, ["group", "delete", name]));
  });

  test("an unreachable controller exits 1 and says where it looked", async () => {
    const closed = await freePort();
    const result = ctl(home, ["group", "list", "--server", `http://127.0.0.1:${closed}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(
      `error: cannot reach the controller at http://127.0.0.1:${closed}: connection refused`,
    );
  });

  test("usage mistakes exit 2", () => {
    for (const args of [
      ["group", "list", "--frobnicate"],
      ["group", "list", "-o", "xml"],
      ["group", "frob"],
      ["group", "scale", "lobby"],
    ]) {
      const result = ctl(home, args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain("error:");
    }
  });
});

describe("contexts and how credentials resolve", () => {
  test("add, use, list, current, remove", () => {
    const home = newHome();
    ok(ctl(home, ["context", "add", "prod", "--server", "https://prod.example.com:8443"]));
    ok(ctl(home, ["context", "add", "local", "--server", server, "--use"]));
    expect(ok(ctl(home, ["context", "current"])).stdout.trim()).toBe("local");
    const list = ok(ctl(home, ["context", "list"]))
      .stdout.trimEnd()
      .split("\n");
    expect(list[0]).toMatch(/^CURRENT\s+NAME\s+SERVER\s+USER\s+TOKEN$/);
    expect(list.find((l) => l.includes("local"))).toMatch(/^\*\s+local\s+/);
    ok(ctl(home, ["context", "use", "prod"]));
    expect(ctl(home, ["context", "use", "nope"]).code).toBe(4);
    expect(ctl(home, ["context", "add", "prod", "--server", server]).code).toBe(5);
    ok(ctl(home, ["context", "remove", "prod"]));
    expect(ctl(home, ["context", "current"]).code).toBe(1);
    expect(
      json<Array<{ name: string }>>(ctl(home, ["context", "list", "-o", "json"])).map((c) => c.name),
    ).toEqual(["local"]);
  });

  test("flag beats PREXOR_CONTROLLER beats the context; --context beats PREXOR_CONTEXT; global flags go anywhere", async () => {
    const home = loggedIn();
    const dead = `http://127.0.0.1:${await freePort()}`;
    ok(ctl(home, ["context", "add", "dead", "--server", dead]));
    expect(ctl(home, ["version", "--context", "dead", "-o", "json"]).stdout).toContain("unreachable");
    const viaEnv = json<{ server: string; controller: { version?: string } }>(
      ctl(home, ["version", "-o", "json"], { env: { PREXOR_CONTEXT: "dead", PREXOR_CONTROLLER: server } }),
    );
    expect(viaEnv.server).toBe(server);
    expect(viaEnv.controller.version).toBeString();
    const viaFlag = json<{ server: string }>(
      ctl(home, ["--server", server, "-o", "json", "version"], { env: { PREXOR_CONTROLLER: dead } }),
    );
    expect(viaFlag.server).toBe(server);
    // --context wins over PREXOR_CONTEXT, and the default context keeps its token
    expect(
      ok(ctl(home, ["--context", "default", "group", "list"], { env: { PREXOR_CONTEXT: "dead" } })).code,
    ).toBe(0);
    // the same controller under another spelling does not get the context's token
    const foreign = ctl(home, ["group", "list", "--server", server.replace("127.0.0.1", "localhost")]);
    expect(foreign.code).toBe(3);
  });
});

describe("users, roles and networks", () => {
  test("CRUD through the CLI", () => {
    const home = loggedIn();
    const user = randomId("u").toLowerCase();
    ok(
      ctl(home, ["user", "create", user, "--role", "viewer", "--password-stdin"], {
        input: "a-long-password\n",
      }),
    );
    expect(json<{ role: string }>(ctl(home, ["user", "info", user, "-o", "json"])).role).toBe("VIEWER");
    ok(ctl(home, ["user", "update", user, "--role", "OPERATOR"]));
    expect(ok(ctl(home, ["user", "list"])).stdout).toMatch(new RegExp(`${user}\\s+OPERATOR`));
    // the new user can log in with that password
    ok(
      ctl(newHome(), ["login", "--server", server, "-u", user, "--password-stdin"], {
        input: "a-long-password",
      }),
    );
    // seed 001 §1: set-password, then only the new password works
    ok(ctl(home, ["user", "set-password", user, "--password-stdin"], { input: "another-long-password\n" }));
    const relogin = (password: string) =>
      ctl(newHome(), ["login", "--server", server, "-u", user, "--password-stdin"], { input: password });
    ok(relogin("another-long-password"));
    expect(relogin("a-long-password").code).toBe(3);
    ok(ctl(home, ["user", "delete", user]));
    expect(ctl(home, ["user", "info", user]).code).toBe(4);

    ok(ctl(home, ["role", "create", "SUPPORT_E2E", "--permissions", "groups.view,instances.view"]));
    ok(ctl(home, ["role", "update", "support_e2e", "--add", "crashes.view", "--remove", "groups.view"]));
    expect(
      json<{ permissions: string[] }>(ctl(home, ["role", "info", "SUPPORT_E2E", "-o", "json"])).permissions,
    ).toEqual(["crashes.view", "instances.view"]);
    expect(ok(ctl(home, ["role", "list"])).stdout).toMatch(/SUPPORT_E2E\s+no\s+2/);
    ok(ctl(home, ["role", "delete", "SUPPORT_E2E"]));

    ok(ctl(home, ["group", "create", "hub"]));
    ok(ctl(home, ["network", "create", "main", "--lobby", "hub", "--description", "the network"]));
    ok(ctl(home, ["network", "update", "main", "--fallback", "hub"]));
    expect(
      json<{ lobbyGroup: string; fallbackGroups: string[]; description: string }>(
        ctl(home, ["network", "info", "main", "-o", "json"]),
      ),
    ).toMatchObject({ lobbyGroup: "hub", fallbackGroups: ["hub"], description: "the network" });
    expect(ctl(home, ["network", "create", "main", "--lobby", "hub"]).code).toBe(5);
    ok(ctl(home, ["network", "delete", "main"]));
    ok(ctl(home, ["group", "delete", "hub"]));
  });
});

/** A test of commands that call `routes`: a route the controller does not serve fails it. */
function routeTest(name: string, routes: string[], fn: () => void | Promise<void>, timeoutMs?: number): void {
  test(
    name,
    async () => {
      expect(missingRoutes(routes), "routes these commands call that the controller does not serve").toEqual(
        [],
      );
      await fn();
    },
    timeoutMs,
  );
}

describe("commands per resource, each checking the routes it calls exist", () => {
  const home = loggedIn();

  routeTest(
    "templates: push a directory (creating the template), list versions, roll back, pull, delete",
    [
      "POST /api/v1/templates",
      "POST /api/v1/templates/{name}/versions",
      "GET /api/v1/templates/{name}/versions",
      "POST /api/v1/templates/{name}/rollback",
      "GET /api/v1/templates/{name}/export",
    ],
    () => {
      const dir = join(newHome(), "tpl");
      mkdirSync(join(dir, "plugins"), { recursive: true });
      writeFileSync(join(dir, "server.properties"), "motd=one\n");
      writeFileSync(join(dir, "plugins/config.yml"), "enabled: true\n");
      const first = json<{ hash: string }>(
        ctl(home, ["template", "push", "e2e-tpl", dir, "--create", "-o", "json"]),
      );
      writeFileSync(join(dir, "server.properties"), "motd=two\n");
      const pushed = ok(ctl(home, ["template", "push", "e2e-tpl", dir]));
      expect(pushed.stdout).toContain('template "e2e-tpl" is now at version');
      expect(pushed.stderr).toContain("pushing 2 files");
      const versions = json<Array<{ hash: string }>>(
        ctl(home, ["template", "versions", "e2e-tpl", "-o", "json"]),
      );
      expect(versions).toHaveLength(2);
      expect(ok(ctl(home, ["template", "versions", "e2e-tpl"])).stdout).toMatch(/^CURRENT\s+VERSION\s+FILES/);
      const rolled = json<{ to: string }>(ctl(home, ["template", "rollback", "e2e-tpl", "-o", "json"]));
      expect(rolled.to).toBe(first.hash);
      expect(
        json<Array<{ name: string; currentHash: string }>>(
          ctl(home, ["template", "list", "-o", "json"]),
        ).find((t) => t.name === "e2e-tpl")?.currentHash,
      ).toBe(first.hash);
      const out = join(newHome(), "pulled");
      ok(ctl(home, ["template", "pull", "e2e-tpl", out]));
      expect(readFileSync(join(out, "server.properties"), "utf8")).toBe("motd=one\n");
      ok(ctl(home, ["template", "delete", "e2e-tpl"]));
      expect(ctl(home, ["template", "versions", "e2e-tpl"]).code).toBe(4);
    },
  );

  routeTest(
    "nodes: the local daemon is listed; cordon, drain without shutdown, undrain, uncordon",
    [
      "GET /api/v1/nodes",
      "POST /api/v1/nodes/{id}/cordon",
      "POST /api/v1/nodes/{id}/drain",
      "POST /api/v1/nodes/{id}/undrain",
    ],
    async () => {
      const nodes = await waitFor(
        () => {
          const list = json<Array<{ id: string; state: string }>>(ctl(home, ["node", "list", "-o", "json"]));
          return list.find((n) => n.state === "ONLINE") ?? null;
        },
        { timeoutMs: 30_000, what: "an ONLINE node" },
      );
      expect(ok(ctl(home, ["node", "list"])).stdout.split("\n")[0]).toMatch(
        /^ID\s+STATE\s+ADDRESS\s+INSTANCES/,
      );
      expect(json<{ id: string }>(ctl(home, ["node", "info", nodes.id, "-o", "json"])).id).toBe(nodes.id);
      ok(ctl(home, ["node", "cordon", nodes.id]));
      expect(ok(ctl(home, ["node", "list", "--no-headers"])).stdout).toMatch(
        new RegExp(`^${nodes.id}\\s+CORDONED`, "m"),
      );
      ok(ctl(home, ["node", "uncordon", nodes.id]));
      expect(ok(ctl(home, ["node", "drain", nodes.id, "--no-shutdown", "--timeout", "5s"])).stdout).toContain(
        "draining",
      );
      const undrain = ctl(home, ["node", "undrain", nodes.id]);
      // a drain of an empty node may already be over: then undrain is a conflict and uncordon applies
      expect([0, 5]).toContain(undrain.code ?? -1);
      ok(ctl(home, ["node", "uncordon", nodes.id]));
      expect(ctl(home, ["node", "info", "no-such-node"]).code).toBe(4);
    },
  );

  routeTest(
    "join tokens: create shows the token once, list shows the id, revoke removes it",
    ["POST /api/v1/admin/tokens", "GET /api/v1/admin/tokens", "DELETE /api/v1/admin/tokens/{id}"],
    () => {
      const node = randomId("node-").toLowerCase();
      const created = ok(ctl(home, ["join-token", "create", "--node", node, "--ttl", "10m"]));
      expect(created.stdout.trim()).toMatch(/^pxr_[A-Za-z0-9_-]+$/);
      expect(created.stderr).toContain("it is not shown again");
      const list = json<Array<{ tokenId: string; nodeId: string; token?: string }>>(
        ctl(home, ["join-token", "list", "-o", "json"]),
      );
      const mine = list.find((t) => t.nodeId === node)!;
      expect(mine.token).toBeUndefined();
      expect(mine).toMatchObject({ status: "PENDING" });
      ok(ctl(home, ["join-token", "revoke", mine.tokenId]));
      const after = json<Array<{ tokenId: string; status: string }>>(
        ctl(home, ["join-token", "list", "-o", "json"]),
      );
      expect(after.find((t) => t.tokenId === mine.tokenId)?.status).toBe("REVOKED");
      expect(ok(ctl(home, ["join-token", "list"])).stdout).toMatch(
        new RegExp(`${mine.tokenId}\\s+${node}\\s+REVOKED`),
      );
      expect(ctl(home, ["join-token", "create", "--node", node, "--ttl", "soon"]).code).toBe(2);
    },
  );

  routeTest(
    "events: replays from a sequence, follows live events, exits after --count",
    ["POST /api/v1/events/ticket", "GET /api/v1/events/stream"],
    async () => {
      const group = randomId("ev").toLowerCase();
      ok(ctl(home, ["group", "create", group]));
      const replayed = ok(
        ctl(home, ["events", "--since", "0", "--type", "GROUP_CREATED", "--count", "1", "-o", "json"]),
      );
      expect(JSON.parse(replayed.stdout.trim().split("\n")[0]!)).toMatchObject({ type: "GROUP_CREATED" });
      // live: start following, then cause the event (async spawn: this process must stay free)
      const sseClients = async () => {
        const text = await (await fetch(`${server}/metrics`)).text();
        return Number(text.match(/^prexorcloud_sse_clients_connected (\d+)$/m)?.[1] ?? Number.NaN);
      };
      const before = await sseClients();
      expect(Number.isInteger(before)).toBe(true);
      const follower = Bun.spawn(
        [ctlPath, "events", "--type", "GROUP_DELETED", "--count", "1", "-o", "json"],
        {
          env: {
            ...process.env,
            NO_COLOR: "1",
            XDG_CONFIG_HOME: home,
            PREXOR_TOKEN: "",
            PREXOR_CONTROLLER: "",
            PREXOR_CONTEXT: "",
          },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const timer = setTimeout(() => follower.kill(), 20_000);
      // Connected once the controller counts one more stream client: an event published before that
      // would not be replayed to it (no --since).
      await waitFor(async () => (await sseClients()) > before, {
        timeoutMs: 15_000,
        what: "the follower connected",
      });
      ok(ctl(home, ["group", "delete", group]));
      const code = await follower.exited;
      clearTimeout(timer);
      const lines = (await new Response(follower.stdout).text()).trim().split("\n");
      expect(code).toBe(0);
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: "GROUP_DELETED", groupName: group });
      const human = ok(ctl(home, ["events", "--since", "0", "--type", "GROUP_DELETED", "--count", "1"]));
      expect(human.stdout).toMatch(/^\S+ {2}GROUP_DELETED {2}groupName=/);
    },
  );

  routeTest("catalog: lists platform versions", ["GET /api/v1/catalog"], () => {
    expect(Array.isArray(json<unknown[]>(ctl(home, ["catalog", "list", "-o", "json"])))).toBe(true);
    expect(ok(ctl(home, ["catalog", "list"])).code).toBe(0);
  });

  routeTest(
    "catalog: add by hand, import a file (hash computed), remove; bad input exits non-zero",
    [
      "POST /api/v1/catalog/{platform}/versions",
      "PUT /api/v1/catalog/{platform}/versions/{version}/artifact",
      "DELETE /api/v1/catalog/{platform}/versions/{version}",
    ],
    () => {
      const sha = "ab".repeat(32);
      ok(
        ctl(home, [
          "catalog",
          "add",
          "--platform",
          "purpur",
          "--version",
          "e2e-1",
          "--sha256",
          sha,
          "--url",
          "https://mirror.invalid/p.jar",
        ]),
      );
      expect(
        ctl(home, ["catalog", "add", "--platform", "purpur", "--version", "e2e-1", "--sha256", sha]).code,
      ).toBe(5);
      const file = join(newHome(), "server.jar");
      writeFileSync(file, "jar bytes for the catalog test\n");
      const digest = createHash("sha256").update("jar bytes for the catalog test\n").digest("hex");
      const imported = json<{ sha256: string; origin: string; ready: boolean }>(
        ctl(home, ["catalog", "import", file, "--platform", "spigot", "--version", "e2e-2", "-o", "json"]),
      );
      expect(imported).toMatchObject({ sha256: digest, origin: "import", ready: true });
      const listed = json<Array<{ platform: string; version: string }>>(
        ctl(home, ["catalog", "list", "-o", "json"]),
      );
      expect(listed.map((c) => `${c.platform}/${c.version}`)).toEqual(
        expect.arrayContaining(["PURPUR/e2e-1", "SPIGOT/e2e-2"]),
      );
      ok(ctl(home, ["catalog", "remove", "--platform", "purpur", "--version", "e2e-1"]));
      ok(ctl(home, ["catalog", "remove", "--platform", "spigot", "--version", "e2e-2"]));
      expect(ctl(home, ["catalog", "remove", "--platform", "spigot", "--version", "e2e-2"]).code).toBe(4);
      expect(
        ctl(home, ["catalog", "import", "/no/such/file.jar", "--platform", "paper", "--version", "x"]).code,
      ).toBe(4);
      expect(ctl(home, ["catalog", "add", "--version", "1"]).code).toBe(2);
    },
  );

  routeTest("crashes: list and a missing crash", ["GET /api/v1/crashes", "GET /api/v1/crashes/{id}"], () => {
    expect(Array.isArray(json<unknown[]>(ctl(home, ["crash", "list", "--since", "1h", "-o", "json"])))).toBe(
      true,
    );
    expect(ctl(home, ["crash", "info", "no-such-crash"]).code).toBe(4);
  });

  routeTest(
    "instances: a group's instance reaches RUNNING, takes a console command, stops with its node's drain",
    [
      "GET /api/v1/services",
      "POST /api/v1/services/{id}/command",
      "GET /api/v1/nodes",
      "POST /api/v1/nodes/{id}/drain",
    ],
    async () => {
      const launcher = resolve(repoRoot, "tests/support/workloads/flying-squid-launcher.ts");
      const file = join(newHome(), "squid.yml");
      writeFileSync(
        file,
        [
          "name: squid",
          "platform: CUSTOM",
          "scalingMode: STATIC",
          "minInstances: 1",
          "maxInstances: 1",
          "memoryMb: 256",
          "readiness: CONSOLE",
          `argvTemplate: [${JSON.stringify(process.execPath)}, ${JSON.stringify(launcher)}, "--port", "{PORT}"]`,
          "",
        ].join("\n"),
      );
      ok(ctl(home, ["group", "create", "-f", file]));
      const running = await waitFor(
        () =>
          json<Array<{ id: string; state: string; nodeId: string }>>(
            ctl(home, ["instance", "list", "--group", "squid", "-o", "json"]),
          ).find((i) => i.state === "RUNNING") ?? null,
        { timeoutMs: 90_000, intervalMs: 1000, what: "a RUNNING squid instance" },
      );
      expect(ok(ctl(home, ["instance", "list", "--group", "squid"])).stdout).toMatch(
        new RegExp(`^${running.id}\\s+squid\\s+RUNNING\\s+${running.nodeId}`, "m"),
      );
      expect(json<{ state: string }>(ctl(home, ["instance", "info", running.id, "-o", "json"])).state).toBe(
        "RUNNING",
      );
      expect(ok(ctl(home, ["instance", "logs", running.id, "--tail", "200"])).stdout).toContain("Done (");
      expect(
        ok(ctl(home, ["instance", "exec", running.id, "--", "say", "hello", "from", "prexorctl"])).stdout,
      ).toContain(`sent to ${running.id}: say hello from prexorctl`);
      // console attaches over SSE: the buffered history (with the ready line) arrives first
      const attached = Bun.spawn([ctlPath, "instance", "console", running.id], {
        env: {
          ...process.env,
          NO_COLOR: "1",
          XDG_CONFIG_HOME: home,
          PREXOR_TOKEN: "",
          PREXOR_CONTROLLER: "",
          PREXOR_CONTEXT: "",
        },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
      let seen = "";
      const reader = (async () => {
        for await (const chunk of attached.stdout) {
          seen += new TextDecoder().decode(chunk);
          if (seen.includes("Done (")) break;
        }
      })();
      await waitFor(() => seen.includes("Done ("), { timeoutMs: 15_000, what: "console history over SSE" });
      attached.kill();
      await reader.catch(() => undefined);
      await attached.exited;
      const st = json<{ instances: { total: number; running: number } }>(ctl(home, ["status", "-o", "json"]));
      expect(st.instances.running).toBeGreaterThanOrEqual(1);
      ok(ctl(home, ["node", "drain", running.nodeId, "--no-shutdown", "--timeout", "5s"]));
      await waitFor(
        () =>
          !json<Array<{ state: string }>>(
            ctl(home, ["instance", "list", "--group", "squid", "-o", "json"]),
          ).some((i) => i.state === "RUNNING"),
        { timeoutMs: 60_000, intervalMs: 1000, what: "the instance to stop after the drain" },
      );
      ctl(home, ["node", "undrain", running.nodeId]);
      ok(ctl(home, ["node", "uncordon", running.nodeId]));
      ok(ctl(home, ["group", "delete", "squid"]));
    },
    180_000,
  );
});

describe("help and completion", () => {
  test("every command prints --help with an EXAMPLES section", async () => {
    const paths = listCommands(ctlCommand).map((c) => c.path);
    const home = newHome();
    const help = async (path: string[]) => {
      const child = Bun.spawn([ctlPath, ...path, "--help"], {
        env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: home },
        stdout: "pipe",
        stderr: "pipe",
      });
      const stdout = await new Response(child.stdout).text();
      return { path, code: await child.exited, stdout };
    };
    // a few at a time: there are ~60 commands and each run starts the binary
    const results: Array<Awaited<ReturnType<typeof help>>> = [];
    for (let i = 0; i < paths.length; i += 4)
      results.push(...(await Promise.all(paths.slice(i, i + 4).map(help))));
    expect(results).toHaveLength(paths.length);
    for (const { path, code, stdout } of results) {
      const where = `prexorctl ${path.join(" ")} --help`;
      expect(code, where).toBe(0);
      expect(stdout, where).toContain("USAGE");
      expect(stdout, where).toMatch(/EXAMPLES\n\n {2}\S/);
      expect(stdout, where).toContain(`prexorctl ${path.join(" ")}`.trim());
    }
  }, 120_000);

  test("`prexor ctl …` is the same CLI", () => {
    const result = runBinary(["ctl", "group", "create", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("prexorctl group create lobby --platform PAPER");
  });

  test("the bash completion script loads and registers prexorctl", () => {
    const script = ok(ctl(newHome(), ["completion", "bash"])).stdout;
    const file = join(newHome(), "prexorctl.bash");
    writeFileSync(file, script);
    expect(Bun.spawnSync(["bash", "-n", file]).exitCode).toBe(0);
    const loaded = Bun.spawnSync(
      ["bash", "-c", `source <(${JSON.stringify(ctlPath)} completion bash); complete -p prexorctl`],
      {
        env: { ...process.env, XDG_CONFIG_HOME: newHome() },
      },
    );
    expect(loaded.exitCode).toBe(0);
    expect(loaded.stdout.toString()).toContain("complete -o default -F _prexorctl prexorctl");
    expect(ctl(newHome(), ["completion", "powershell"]).code).toBe(2);
  });
});
