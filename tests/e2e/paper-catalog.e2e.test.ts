/**
 * A stock-Paper first hour with the compiled binary and no internet. A local HTTP server on
 * 127.0.0.1 answers in the shape of PaperMC's downloads API (v3) and serves a jar built with javac
 * in the harness (it refuses to run without eula.txt, prints Paper's `Done` line and answers Server
 * List Pings on its port):
 *   1. a PAPER group with an empty catalog resolves the build from the API, the daemon downloads and
 *      verifies it and the instance reaches RUNNING; the plan records build + hash; a second
 *      instance downloads nothing (one copy per node cache) and the API is asked once; a cached jar
 *      changed on disk is refused naming both hashes and evicted, and the retry downloads it again;
 *      after the controller is killed (-9) and restarted the pinned build is used without the API;
 *   2. a build whose bytes differ from the published SHA-256 is refused naming both hashes, once,
 *      and the group is paused with that reason (prexorctl group list shows it);
 *   3. the Minecraft EULA not accepted: the group is paused after exactly one attempt, with that
 *      reason in prexorctl group list;
 *   4. the API unreachable: a version not in the catalog fails TRANSIENT (not paused); after
 *      `prexorctl catalog import FILE --platform paper --version …` the group runs offline.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ping } from "minecraft-protocol";
import { tempDir } from "../support/adapters.ts";
import type { AdminApi } from "../support/admin-api.ts";
import { ctlPath, ensureBinary, type Running, runBinary } from "../support/binary.ts";
import { workloadPortRange } from "../support/ports.ts";
import { startUpCloud } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import {
  type FakeDownloadsApi,
  sha256Hex,
  startFakeDownloadsApi,
} from "../support/workloads/downloads-api.ts";
import { ensureWorkloadJar, javaAvailable } from "../support/workloads/java-workload.ts";

// Two JVMs and a controller on a shared 2-core machine.
setDefaultTimeout(240_000);
const skip = !javaAvailable();
if (!skip) ensureBinary();
const running: Running[] = [];
const dirs: string[] = [];
let downloads: FakeDownloadsApi | undefined;
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGTERM");
  downloads?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface InstanceView {
  id: string;
  state: string;
  port: number;
  startError: { code: string; message: string; disposition: string } | null;
}

interface GroupRow {
  name: string;
  pause: { kind: string; code: string; reason: string } | null;
}

async function must<T>(
  api: AdminApi,
  method: string,
  path: string,
  status: number,
  body?: unknown,
): Promise<T> {
  const res = await api.call<T>(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const instancesOf = async (api: AdminApi, group: string) =>
  (await must<{ data: InstanceView[] }>(api, "GET", `/api/v1/services?group=${group}&pageSize=100`, 200))
    .data;

/** Every file named `name` below `dir`. */
function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath, e.name));
}

async function createGroup(api: AdminApi, spec: Record<string, unknown>): Promise<void> {
  const port = await workloadPortRange(16);
  await must(api, "POST", "/api/v1/groups", 201, {
    platform: "PAPER",
    memoryMb: 64,
    jvmArgs: ["-XX:+UseSerialGC"],
    readiness: "CONSOLE",
    portRangeStart: port,
    portRangeEnd: Math.min(65535, port + 10),
    ...spec,
  });
}

async function pausedBy(api: AdminApi, group: string): Promise<NonNullable<GroupRow["pause"]>> {
  return waitFor(
    async () => {
      const pause = (await must<GroupRow>(api, "GET", `/api/v1/groups/${group}`, 200)).pause;
      if (pause) return pause;
      // what the group's instances went through, for the timeout message
      throw new Error(`not paused; instances ${JSON.stringify(await instancesOf(api, group))}`);
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `group ${group} paused` },
  );
}

/** Resolves after `n` more scheduler ticks have completed. */
async function ticks(api: AdminApi, n: number): Promise<void> {
  const at = async () =>
    (await must<{ lastTick: { at: string } | null }>(api, "GET", "/api/v1/scheduler", 200)).lastTick?.at;
  let seen = await at();
  for (let i = 0; i < n; i++) {
    const before = seen;
    seen = await waitFor(async () => ((await at()) !== before ? await at() : undefined), {
      timeoutMs: 15_000,
      what: "the next scheduler tick",
    });
  }
}

/** The workload jar with one extra entry: runs the same, hashes differently. */
function jarVariant(dir: string, name: string): string {
  const path = join(dir, `paper-${name}.jar`);
  copyFileSync(ensureWorkloadJar(), path);
  writeFileSync(join(dir, `variant-${name}.txt`), `${name}\n`);
  const updated = spawnSync("jar", ["--update", "--file", path, "-C", dir, `variant-${name}.txt`], {
    encoding: "utf8",
  });
  if (updated.status !== 0) throw new Error(`jar --update: ${updated.stderr}`);
  return path;
}

function ctl(api: AdminApi, args: string[]) {
  const home = tempDir("prexorctl-home-");
  dirs.push(home);
  return runBinary(args, {
    bin: ctlPath,
    timeoutMs: 60_000,
    env: {
      XDG_CONFIG_HOME: home,
      PREXOR_CONTROLLER: api.base,
      PREXOR_TOKEN: api.token,
      PREXOR_CONTEXT: "",
      PREXOR_OUTPUT: "",
    },
  });
}

/** The `prexorctl group list` row of `group`, as printed. */
function groupListRow(api: AdminApi, group: string): string {
  const listed = ctl(api, ["group", "list"]);
  expect(listed.code).toBe(0);
  const row = listed.stdout.split("\n").find((line) => line.startsWith(`${group} `));
  if (!row) throw new Error(`no ${group} row in:\n${listed.stdout}`);
  return row;
}

describe.skipIf(skip)("stock Paper from the downloads API, offline", () => {
  test("resolve + download + verify → RUNNING; a lying checksum and an unaccepted EULA pause after one attempt; offline import runs", async () => {
    const dir = tempDir("prexor-e2e-paper-");
    dirs.push(dir);
    const jar = new Uint8Array(readFileSync(ensureWorkloadJar()));
    const jarSha = sha256Hex(jar);
    // The service claims variant B's checksum for 1.21.5 but serves other bytes; none of these is cached.
    const variantB = new Uint8Array(readFileSync(jarVariant(dir, "b")));
    const variantBSha = sha256Hex(variantB);
    const lying = new Uint8Array([...variantB, 0x0a]);
    downloads = startFakeDownloadsApi([
      { project: "paper", version: "1.21.4", build: 231, bytes: jar },
      { project: "paper", version: "1.21.4", build: 232, bytes: jar },
      { project: "paper", version: "1.21.4", build: 240, channel: "ALPHA", bytes: lying },
      // serves other bytes than the checksum it publishes
      { project: "paper", version: "1.21.5", build: 7, bytes: lying, publishedSha256: variantBSha },
    ]);
    const yaml = [
      "scheduler:",
      "  evaluationIntervalSeconds: 1",
      "catalog:",
      "  downloads:",
      `    baseUrl: ${downloads.baseUrl}`,
      "    timeoutMs: 2000",
      "",
    ].join("\n");
    let { api, up } = await startUpCloud(dir, undefined, { yaml, downloads: true });
    running.push(up);

    // 1. Empty catalog → the API's newest STABLE build, downloaded, verified, RUNNING.
    await createGroup(api, {
      name: "lobby",
      platformVersion: "1.21.4",
      acceptEula: true,
      scalingMode: "MANUAL",
    });
    const first = (await api.startGroup("lobby")).body.instances[0]!.id;
    const lobby = await waitFor(
      async () => {
        const view = (await instancesOf(api, "lobby")).find((i) => i.id === first);
        if (view?.startError) throw new Error(`start failed: ${JSON.stringify(view.startError)}`);
        return view?.state === "RUNNING" ? view : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `${first} RUNNING` },
    );
    const plan = await must<{
      runtime: { sha256: string; build?: number; downloadUrl: string; platformVersion: string };
    }>(api, "GET", `/api/v1/services/${first}/composition`, 200);
    expect(plan.runtime).toMatchObject({ sha256: jarSha, build: 232, platformVersion: "1.21.4" });
    expect(plan.runtime.downloadUrl).toBe(`${downloads.baseUrl}/data/paper-1.21.4-232.jar`);
    const catalog = await must<{ data: Array<Record<string, unknown>> }>(api, "GET", "/api/v1/catalog", 200);
    expect(catalog.data).toEqual([
      expect.objectContaining({
        platform: "PAPER",
        version: "1.21.4",
        build: 232,
        sha256: jarSha,
        origin: "papermc",
      }),
    ]);
    expect(readFileSync(join(dir, "daemon", "instances", first, "eula.txt"), "utf8")).toContain("eula=true");
    // The stub answers a Server List Ping on the instance's port like Paper.
    const status = (await ping({ host: "127.0.0.1", port: lobby.port })) as {
      players: { max: number; online: number };
    };
    expect(status.players.online).toBe(0);
    const cached = findFiles(join(dir, "daemon"), jarSha);
    expect(cached.length).toBe(1);

    const second = (await api.startGroup("lobby")).body.instances[0]!.id;
    await waitFor(
      async () => (await instancesOf(api, "lobby")).find((i) => i.id === second)?.state === "RUNNING",
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${second} RUNNING`,
      },
    );
    expect(downloads.hits.get("/v3/projects/paper/versions/1.21.4/builds")).toBe(1);
    expect(downloads.hits.get("/data/paper-1.21.4-232.jar")).toBe(1);
    console.log(
      `E2E: ${first} and ${second} ran PAPER 1.21.4 build 232 (sha256 ${jarSha}); one API call, one download`,
    );
    for (const id of [first, second]) await must(api, "POST", `/api/v1/services/${id}/stop`, 200);

    // 1b. The node's cached copy changed after it was stored: that jar never runs; the retry fetches it again.
    writeFileSync(cached[0]!, "not the jar any more");
    const third = (await api.startGroup("lobby")).body.instances[0]!.id;
    const evicted = await waitFor(
      async () =>
        (await instancesOf(api, "lobby")).find((i) => i.id === third && i.startError)?.startError ??
        undefined,
      { timeoutMs: 30_000, intervalMs: 100, what: `${third} refused for its changed cached jar` },
    );
    expect(evicted).toMatchObject({ code: "RUNTIME_HASH_MISMATCH", disposition: "TRANSIENT" });
    expect(evicted.message).toContain(jarSha);
    expect(evicted.message).toContain(sha256Hex(new TextEncoder().encode("not the jar any more")));
    await waitFor(
      async () => (await instancesOf(api, "lobby")).find((i) => i.id === third)?.state === "RUNNING",
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${third} RUNNING after the retry downloaded the jar again`,
      },
    );
    expect(downloads.hits.get("/data/paper-1.21.4-232.jar")).toBe(2);
    expect(sha256Hex(new Uint8Array(readFileSync(cached[0]!)))).toBe(jarSha);
    await must(api, "POST", `/api/v1/services/${third}/stop`, 200);
    console.log(
      `E2E: ${third} refused a changed cached jar (${evicted.message}); ran after a fresh download`,
    );

    // 1c. The controller is killed and started again: the pinned build is in the store, so the next
    // start asks the API nothing and downloads nothing.
    await up.stop("SIGKILL");
    running.splice(running.indexOf(up), 1);
    ({ api, up } = await startUpCloud(dir, undefined, { yaml, downloads: true }));
    running.push(up);
    const afterRestart = (await api.startGroup("lobby")).body.instances[0]!.id;
    await waitFor(
      async () => (await instancesOf(api, "lobby")).find((i) => i.id === afterRestart)?.state === "RUNNING",
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${afterRestart} RUNNING after a controller restart`,
      },
    );
    const restartedPlan = await must<{ runtime: { sha256: string; build?: number } }>(
      api,
      "GET",
      `/api/v1/services/${afterRestart}/composition`,
      200,
    );
    expect(restartedPlan.runtime).toMatchObject({ sha256: jarSha, build: 232 });
    expect(downloads.hits.get("/v3/projects/paper/versions/1.21.4/builds")).toBe(1);
    expect(downloads.hits.get("/data/paper-1.21.4-232.jar")).toBe(2);
    await must(api, "POST", `/api/v1/services/${afterRestart}/stop`, 200);
    console.log(
      `E2E: after kill -9 and restart ${afterRestart} ran the pinned build 232 without asking the API`,
    );

    // 2. Bytes that do not hash to the published checksum: refused once, both hashes named, paused.
    await createGroup(api, {
      name: "tampered",
      platformVersion: "1.21.5",
      acceptEula: true,
      scalingMode: "DYNAMIC",
      minInstances: 1,
      maxInstances: 1,
    });
    const mismatch = await pausedBy(api, "tampered");
    expect(mismatch).toMatchObject({ kind: "failure", code: "RUNTIME_HASH_MISMATCH" });
    expect(mismatch.reason).toContain(variantBSha);
    expect(mismatch.reason).toContain(sha256Hex(lying));
    const tamperedTries = await instancesOf(api, "tampered");
    expect(tamperedTries.length).toBe(1);
    expect(tamperedTries[0]!.startError).toMatchObject({
      code: "RUNTIME_HASH_MISMATCH",
      disposition: "PERMANENT",
    });
    expect(findFiles(join(dir, "daemon"), sha256Hex(lying)).length).toBe(0);
    expect(groupListRow(api, "tampered")).toContain("RUNTIME_HASH_MISMATCH");
    console.log(`E2E: tampered download refused: ${mismatch.reason}`);

    // 3. EULA not accepted (neither controller.yml nor the group): paused after one attempt.
    await createGroup(api, {
      name: "noeula",
      platformVersion: "1.21.4",
      scalingMode: "DYNAMIC",
      minInstances: 1,
      maxInstances: 3,
    });
    const eula = await pausedBy(api, "noeula");
    expect(eula).toMatchObject({ kind: "failure", code: "EULA_NOT_ACCEPTED" });
    await ticks(api, 3);
    expect((await instancesOf(api, "noeula")).length).toBe(1);
    expect((await instancesOf(api, "tampered")).length).toBe(1);
    const row = groupListRow(api, "noeula");
    expect(row).toContain("EULA_NOT_ACCEPTED");
    console.log(`E2E: group list shows: ${row.replace(/\s+/g, " ")}`);

    // 4. The API goes away: a version missing from the catalog fails TRANSIENT; an import runs offline.
    downloads.stop();
    await createGroup(api, {
      name: "offline",
      platformVersion: "1.20.6",
      acceptEula: true,
      scalingMode: "MANUAL",
    });
    const tryOffline = (await api.startGroup("offline")).body.instances[0]!.id;
    const refused = await waitFor(
      async () =>
        (await instancesOf(api, "offline")).find((i) => i.id === tryOffline && i.startError)?.startError ??
        undefined,
      { timeoutMs: 30_000, intervalMs: 200, what: `${tryOffline} refused while the API is down` },
    );
    expect(refused).toMatchObject({ code: "CATALOG_UNAVAILABLE", disposition: "TRANSIENT" });
    expect((await must<GroupRow>(api, "GET", "/api/v1/groups/offline", 200)).pause).toBeNull();
    // A jar with other bytes than the one already cached, so the daemon has to fetch it from the controller.
    const offlineJar = jarVariant(dir, "offline");
    const offlineSha = sha256Hex(new Uint8Array(readFileSync(offlineJar)));
    expect(offlineSha).not.toBe(jarSha);
    const imported = ctl(api, [
      "catalog",
      "import",
      offlineJar,
      "--platform",
      "paper",
      "--version",
      "1.20.6",
    ]);
    if (imported.code !== 0)
      throw new Error(`catalog import: ${imported.code} ${imported.stdout} ${imported.stderr}`);
    expect(imported.stdout).toContain(offlineSha);
    const listed = ctl(api, ["catalog", "list", "-o", "json"]);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({
        platform: "PAPER",
        version: "1.20.6",
        sha256: offlineSha,
        origin: "import",
        ready: true,
      }),
    );
    const offline = (await api.startGroup("offline")).body.instances[0]!.id;
    await waitFor(
      async () => (await instancesOf(api, "offline")).find((i) => i.id === offline)?.state === "RUNNING",
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${offline} RUNNING from the imported jar`,
      },
    );
    const offlinePlan = await must<{ runtime: { sha256: string; downloadUrl: string } }>(
      api,
      "GET",
      `/api/v1/services/${offline}/composition`,
      200,
    );
    expect(offlinePlan.runtime).toMatchObject({ sha256: offlineSha, downloadUrl: "" });
    expect(findFiles(join(dir, "daemon"), offlineSha).length).toBe(1);
    await must(api, "POST", `/api/v1/services/${offline}/stop`, 200);
    console.log(
      `E2E: API unreachable → ${tryOffline} ${refused.code}; after catalog import ${offline} RUNNING`,
    );
  });
});
