/**
 * The JVM path end to end with the compiled binary: a jar built with javac is uploaded to the runtime
 * catalog, a PAPER group runs it as `java -Xmx… -jar <artifact> nogui` on the local daemon and reaches
 * RUNNING on its ready line; the same jar told to fill its heap under -Xmx64M dies of a real
 * OutOfMemoryError and the crash is classified OOM in /crashes. A start refused because something
 * outside the cloud holds the port becomes a durable start retry and runs once the port is free. A
 * template layer tampered with in the daemon's cache fails the next start with a hash mismatch that
 * names both hashes; the retry fetches a clean copy and runs.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { freePort, workloadPortRange } from "../support/ports.ts";
import { tarGz } from "../support/tar-builder.ts";
import { startUpCloud } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import { ensureWorkloadJar, javaAvailable } from "../support/workloads/java-workload.ts";

// Three JVMs and a controller on a shared 2-core machine.
setDefaultTimeout(180_000);
const skip = !javaAvailable();
if (!skip) ensureBinary();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

interface InstanceView {
  id: string;
  state: string;
  port: number;
  lastCrashId: string | null;
  startError: { code: string; message: string; disposition: string } | null;
}

interface CrashView {
  id: string;
  instanceId: string;
  classification: string;
  reason: string;
  logTail: string[];
}

/** Every file named `name` below `dir`. */
function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath, e.name));
}

async function upCloud(dir: string): Promise<AdminApi> {
  const { api, up } = await startUpCloud(dir);
  running.push(up);
  return api;
}

async function expectStatus(api: AdminApi, method: string, path: string, status: number, body?: unknown) {
  const res = await api.call(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

async function instance(api: AdminApi, id: string): Promise<InstanceView> {
  return (await expectStatus(api, "GET", `/api/v1/services/${id}`, 200)).body as InstanceView;
}

async function startOne(api: AdminApi, group: string): Promise<string> {
  const res = await api.startGroup(group);
  if (res.status !== 202) throw new Error(`start ${group}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.instances[0]!.id;
}

describe.skipIf(skip)("JVM workloads end to end", () => {
  test("java -jar from the catalog: RUNNING; a tampered layer and a held port are retried; a tiny heap ends in OOM", async () => {
    const dir = tempDir("prexor-e2e-java-");
    const api = await upCloud(dir);
    const jar = new Uint8Array(readFileSync(ensureWorkloadJar()));
    const sha256 = createHash("sha256").update(jar).digest("hex");
    await expectStatus(api, "POST", "/api/v1/catalog/PAPER/versions", 201, { version: "e2e-1", sha256 });
    const upload = await fetch(`${api.base}/api/v1/catalog/PAPER/versions/e2e-1/artifact`, {
      method: "PUT",
      headers: { authorization: `Bearer ${api.token}`, "content-type": "application/octet-stream" },
      body: jar,
    });
    expect(upload.status).toBe(200);

    const group = async (name: string, mode: string, rangeStart: number, rangeEnd = rangeStart + 10) =>
      expectStatus(api, "POST", "/api/v1/groups", 201, {
        name,
        platform: "PAPER",
        platformVersion: "e2e-1",
        acceptEula: true,
        scalingMode: "MANUAL",
        memoryMb: 64,
        jvmArgs: ["-XX:+UseSerialGC"],
        env: { WORKLOAD_MODE: mode },
        readiness: "CONSOLE",
        portRangeStart: rangeStart,
        portRangeEnd: Math.min(65535, rangeEnd),
      });

    // 1. The jar runs on the java -jar path, with the group's template layer, and reports ready.
    await expectStatus(api, "POST", "/api/v1/templates", 201, { name: "jvm" });
    const templateUpload = await fetch(`${api.base}/api/v1/templates/jvm/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.token}`, "content-type": "application/octet-stream" },
      body: tarGz([{ path: "marker.txt", content: "from the jvm template\n" }]),
    });
    expect(templateUpload.status).toBe(201);
    const layerHash = ((await templateUpload.json()) as { hash: string }).hash;
    await group("jvm", "serve", await workloadPortRange(16));
    const served = await startOne(api, "jvm");
    await waitFor(async () => (await instance(api, served)).state === "RUNNING", {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${served} RUNNING`,
    });
    const composition = (await expectStatus(api, "GET", `/api/v1/services/${served}/composition`, 200))
      .body as { runtime: { sha256: string }; memoryMb: number };
    expect(composition.runtime.sha256).toBe(sha256);
    expect(composition.memoryMb).toBe(64);
    const history = (await expectStatus(api, "GET", `/api/v1/services/${served}/console/history`, 200))
      .body as { data: Array<{ line: string }> };
    expect(history.data.some((l) => /-jar|args --port \d+ nogui/.test(l.line))).toBe(true);
    await expectStatus(api, "POST", `/api/v1/services/${served}/stop`, 200);
    await waitFor(async () => (await instance(api, served)).state === "STOPPED", {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${served} STOPPED`,
    });
    console.log(`E2E: ${served} ran the catalog jar on the java -jar path and stopped cleanly`);

    // 1b. Tamper with the cached layer: the next start is refused naming both hashes, the retry runs.
    const cached = findFiles(join(dir, "daemon"), "marker.txt").filter((f) => f.includes(layerHash));
    expect(cached.length).toBe(1);
    writeFileSync(cached[0]!, "tampered\n");
    const second = await startOne(api, "jvm");
    const refusedTemplate = await waitFor(
      async () => {
        const view = await instance(api, second);
        if (!view.startError) throw new Error(`not refused yet: ${JSON.stringify(view)}`);
        return view;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${second} refused for its tampered layer` },
    );
    expect(refusedTemplate.startError).toMatchObject({
      code: "TEMPLATE_APPLY_FAILED",
      disposition: "TRANSIENT",
    });
    expect(refusedTemplate.startError!.message).toContain(layerHash);
    await waitFor(async () => (await instance(api, second)).state === "RUNNING", {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${second} RUNNING after the retry fetched a clean layer`,
    });
    expect(readFileSync(join(dir, "daemon", "instances", second, "marker.txt"), "utf8")).toBe(
      "from the jvm template\n",
    );
    await expectStatus(api, "POST", `/api/v1/services/${second}/stop`, 200);
    console.log(
      `E2E: ${second} refused for a tampered cache layer (${refusedTemplate.startError!.message}); ran on the retry`,
    );

    // 2. -Xmx64M and a workload that keeps allocating: a real OutOfMemoryError, classified OOM.
    await group("jvm-oom", "oom", await workloadPortRange(16));
    const oom = await startOne(api, "jvm-oom");
    const crashed = await waitFor(
      async () => {
        const view = await instance(api, oom);
        return view.state === "CRASHED" && view.lastCrashId ? view : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${oom} CRASHED with a crash record` },
    );
    const crash = (await expectStatus(api, "GET", `/api/v1/crashes/${crashed.lastCrashId}`, 200))
      .body as CrashView;
    expect(crash.instanceId).toBe(oom);
    expect(crash.classification).toBe("OOM");
    expect(crash.logTail.some((l) => l.includes("java.lang.OutOfMemoryError"))).toBe(true);
    console.log(
      `E2E: ${oom} died of a real OutOfMemoryError, crash ${crash.id} classified ${crash.classification}`,
    );

    // 3. Something outside the cloud holds the group's only port: refused TRANSIENT, retried durably.
    const heldPort = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: heldPort, host: "127.0.0.1" }, resolve));
    try {
      await group("jvm-retry", "serve", heldPort, heldPort);
      const retried = await startOne(api, "jvm-retry");
      const refused = await waitFor(
        async () => {
          const view = await instance(api, retried);
          if (!view.startError) throw new Error(`not refused yet: ${JSON.stringify(view)}`);
          return view;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${retried} refused for its port` },
      );
      expect(refused.state).toBe("SCHEDULED");
      expect(refused.startError).toMatchObject({ code: "PORT_UNAVAILABLE", disposition: "TRANSIENT" });
      const metrics = await fetch(`${api.base}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^prexorcloud_workflows_start_retries 1$/m);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    const retriedId = (await api.call<{ data: InstanceView[] }>("GET", "/api/v1/services?group=jvm-retry"))
      .body.data[0]!.id;
    const ran = await waitFor(
      async () => {
        const view = await instance(api, retriedId);
        return view.state === "RUNNING" ? view : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${retriedId} RUNNING after its retry` },
    );
    expect(ran.port).toBe(heldPort);
    const after = await fetch(`${api.base}/metrics`).then((r) => r.text());
    expect(after).toMatch(/^prexorcloud_workflows_start_retries 0$/m);
    console.log(`E2E: ${retriedId} was refused while port ${heldPort} was held, then started on the retry`);
  });
});
