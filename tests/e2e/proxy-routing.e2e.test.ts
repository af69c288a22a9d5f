/**
 * A network without a plugin, end to end with the compiled binary: a VELOCITY proxy group and a
 * PAPER lobby group (both running the javac-built workload jar from the catalog, which logs every
 * console command it does not know) tied by a network composition. The proxy's velocity.toml lists
 * exactly the RUNNING lobby instances, follows a start and a stop, and each change reached the
 * proxy's console as `velocity reload`. Modern forwarding: the proxy's forwarding.secret and the
 * lobby's paper-global.yml carry the same cluster secret, the lobby runs offline-mode on its port.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { tempDir } from "../support/adapters.ts";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { workloadPortRange } from "../support/ports.ts";
import { tarGz } from "../support/tar-builder.ts";
import { startUpCloud, stopAllInstances } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import { ensureWorkloadJar, javaAvailable } from "../support/workloads/java-workload.ts";

// Up to three JVMs and a controller on a shared 2-core machine.
setDefaultTimeout(240_000);
const skip = !javaAvailable();
if (!skip) ensureBinary();
const running: Running[] = [];
const clouds: AdminApi[] = [];
afterAll(async () => {
  for (const api of clouds.splice(0)) await stopAllInstances(api).catch(() => undefined);
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

async function expectStatus(api: AdminApi, method: string, path: string, status: number, body?: unknown) {
  const res = await api.call(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

async function startOne(api: AdminApi, group: string): Promise<{ id: string; port: number }> {
  const res = await api.startGroup(group);
  if (res.status !== 202) throw new Error(`start ${group}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.instances[0]!;
}

async function waitState(api: AdminApi, id: string, state: string): Promise<void> {
  await waitFor(
    async () => (await api.call<{ state: string }>("GET", `/api/v1/services/${id}`)).body.state === state,
    { timeoutMs: 90_000, intervalMs: 200, what: `${id} ${state}` },
  );
}

async function reloads(api: AdminApi, id: string): Promise<number> {
  const res = await api.call<{ data: Array<{ line: string }> }>(
    "GET",
    `/api/v1/services/${id}/console/history?limit=500`,
  );
  return res.body.data.filter((l) => l.line.includes("Unknown command: velocity reload")).length;
}

describe.skipIf(skip)("proxy routing without a plugin", () => {
  test("velocity.toml follows the RUNNING lobby instances, each change reloaded on the proxy's console", async () => {
    const dir = tempDir("prexor-e2e-proxy-");
    const { api, up } = await startUpCloud(dir);
    running.push(up);
    clouds.push(api);
    const jar = new Uint8Array(readFileSync(ensureWorkloadJar()));
    const sha256 = createHash("sha256").update(jar).digest("hex");
    for (const platform of ["VELOCITY", "PAPER"]) {
      await expectStatus(api, "POST", `/api/v1/catalog/${platform}/versions`, 201, {
        version: "e2e-1",
        sha256,
      });
      const upload = await fetch(`${api.base}/api/v1/catalog/${platform}/versions/e2e-1/artifact`, {
        method: "PUT",
        headers: { authorization: `Bearer ${api.token}`, "content-type": "application/octet-stream" },
        body: jar,
      });
      expect(upload.status).toBe(200);
    }
    // The workload jar behaves like Paper and wants eula.txt; a real Velocity does not read one.
    await expectStatus(api, "POST", "/api/v1/templates", 201, { name: "workload-eula" });
    const templateUpload = await fetch(`${api.base}/api/v1/templates/workload-eula/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.token}`, "content-type": "application/octet-stream" },
      body: tarGz([{ path: "eula.txt", content: "eula=true\n" }]),
    });
    expect(templateUpload.status).toBe(201);
    const group = async (name: string, platform: string, templates: string[] = []) => {
      const start = await workloadPortRange(32);
      await expectStatus(api, "POST", "/api/v1/groups", 201, {
        name,
        platform,
        platformVersion: "e2e-1",
        acceptEula: true,
        scalingMode: "MANUAL",
        memoryMb: 64,
        jvmArgs: ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"],
        readiness: "CONSOLE",
        templates,
        portRangeStart: start,
        portRangeEnd: Math.min(65535, start + 20),
      });
    };
    await group("proxy", "VELOCITY", ["workload-eula"]);
    await group("lobby", "PAPER");
    await expectStatus(api, "POST", "/api/v1/networks", 201, {
      name: "main",
      proxyGroups: ["proxy"],
      lobbyGroup: "lobby",
    });

    const instanceDir = (id: string) => join(dir, "daemon", "instances", id);
    const routes = (proxyId: string) => {
      const file = join(instanceDir(proxyId), "velocity.toml");
      if (!existsSync(file)) return undefined;
      return parseToml(readFileSync(file, "utf8")) as {
        servers?: Record<string, unknown>;
        "player-info-forwarding-mode"?: string;
        bind?: string;
      };
    };
    /** Waits until velocity.toml lists exactly `expected` (name → port) and the console saw `reloadCount` reloads. */
    const expectRoutes = async (proxyId: string, expected: Record<string, number>, reloadCount: number) => {
      const names = Object.keys(expected);
      const wanted = {
        ...Object.fromEntries(Object.entries(expected).map(([name, port]) => [name, `127.0.0.1:${port}`])),
        try: names,
      };
      const started = performance.now();
      await waitFor(async () => JSON.stringify(routes(proxyId)?.servers) === JSON.stringify(wanted), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `velocity.toml listing ${names.join(", ") || "no server"}`,
      });
      const ms = Math.round(performance.now() - started);
      await waitFor(async () => (await reloads(api, proxyId)) >= reloadCount, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: `reload #${reloadCount} on the proxy console`,
      });
      expect(await reloads(api, proxyId)).toBe(reloadCount);
      return ms;
    };

    const proxy = await startOne(api, "proxy");
    await waitState(api, proxy.id, "RUNNING");
    // No lobby yet: an empty list (the template's sample servers are gone), reloaded once.
    await expectRoutes(proxy.id, {}, 1);
    const toml = routes(proxy.id)!;
    expect(toml["player-info-forwarding-mode"]).toBe("modern");
    expect(toml.bind).toBe(`0.0.0.0:${proxy.port}`);

    const lobby1 = await startOne(api, "lobby");
    await waitState(api, lobby1.id, "RUNNING");
    const afterStart = await expectRoutes(proxy.id, { [lobby1.id]: lobby1.port }, 2);

    const lobby2 = await startOne(api, "lobby");
    await waitState(api, lobby2.id, "RUNNING");
    await expectRoutes(proxy.id, { [lobby1.id]: lobby1.port, [lobby2.id]: lobby2.port }, 3);

    await expectStatus(api, "POST", `/api/v1/services/${lobby1.id}/stop`, 200);
    const afterStop = await expectRoutes(proxy.id, { [lobby2.id]: lobby2.port }, 4);
    console.log(
      `E2E: velocity.toml changed ${afterStart} ms after the lobby reported RUNNING and ${afterStop} ms after the stop call; 4 reloads for 4 tables`,
    );

    // Modern forwarding: one cluster secret in the proxy's forwarding.secret and the lobby's paper-global.yml.
    const secretFile = join(instanceDir(proxy.id), "forwarding.secret");
    const secret = readFileSync(secretFile, "utf8");
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const paper = parseYaml(readFileSync(join(instanceDir(lobby2.id), "config/paper-global.yml"), "utf8"));
    expect(paper).toEqual({ proxies: { velocity: { enabled: true, "online-mode": true, secret } } });
    const properties = readFileSync(join(instanceDir(lobby2.id), "server.properties"), "utf8").split("\n");
    expect(properties).toContain("online-mode=false");
    expect(properties).toContain(`server-port=${lobby2.port}`);
    // The secret never reaches the stored plan.
    const composition = await expectStatus(api, "GET", `/api/v1/services/${lobby2.id}/composition`, 200);
    expect(JSON.stringify(composition.body)).not.toContain(secret);
  });
});
