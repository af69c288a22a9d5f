/**
 * The supervisor on the `java -Xmx… -jar` path with a real JVM: a runtime jar fetched over HTTP into
 * the artifact cache and verified, a ready line, a real OutOfMemoryError classified OOM, a failing
 * workload classified and fed to the crash-loop detector, and a tampered template cache refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INITIAL_CRASH_LOOP_STATE, isCrashLoopPaused, recordCrash } from "../../../src/core/crash/index.ts";
import type { CompositionPlan } from "../../../src/core/plan/index.ts";
import { httpArtifactSource } from "../../../src/daemon/artifacts/index.ts";
import type { CrashReport } from "../../../src/daemon/supervisor/index.ts";
import { freePort } from "../../support/ports.ts";
import {
  createTestSupervisor,
  SERVER_LAYER,
  sha256,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";
import { ensureWorkloadJar, javaAvailable } from "../../support/workloads/java-workload.ts";

// Real servers and JVMs on a shared 2-core machine: allow for slow starts.
setDefaultTimeout(30_000);

const skip = !javaAvailable();
let harness: TestSupervisor;
let server: ReturnType<typeof Bun.serve> | undefined;
let jarSha = "";
let jarUrl = "";
const served: string[] = [];

beforeAll(async () => {
  if (skip) return;
  const jar = new Uint8Array(readFileSync(ensureWorkloadJar()));
  jarSha = sha256(jar);
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => {
      served.push(new URL(request.url).pathname);
      return new URL(request.url).pathname === "/workload.jar"
        ? new Response(jar)
        : new Response("not found", { status: 404 });
    },
  });
  jarUrl = `http://127.0.0.1:${server.port}/workload.jar`;
  harness = await createTestSupervisor({
    deps: { runtimeSource: (runtime) => httpArtifactSource(runtime.downloadUrl) },
  });
});

afterAll(async () => {
  await harness?.cleanup();
  await server?.stop(true);
});

async function javaPlan(
  mode: "serve" | "oom" | "exit1",
  overrides: { memoryMb?: number } = {},
): Promise<CompositionPlan> {
  return testPlan({
    port: await freePort(),
    memoryMb: overrides.memoryMb ?? 64,
    jvmArgs: ["-XX:+UseSerialGC"],
    env: { WORKLOAD_MODE: mode },
    runtime: {
      jarFile: "server.jar",
      downloadUrl: jarUrl,
      sha256: jarSha,
      platform: "PAPER",
      platformVersion: "1.21.4",
      category: "SERVER",
    },
  });
}

function crashOf(instanceId: string): CrashReport | undefined {
  for (const event of harness.events) {
    if (event.type === "crash" && event.report.instanceId === instanceId) return event.report;
  }
  return undefined;
}

describe.skipIf(skip)("java -jar workload", () => {
  test("runs on the java -jar path, becomes RUNNING on its ready line and stops cleanly", async () => {
    const plan = await javaPlan("serve");
    const outcome = await harness.supervisor.start({ plan, readiness: { ping: false } });
    expect(outcome).toMatchObject({ accepted: true, port: plan.port });
    await harness.waitForState(plan.instanceId, "RUNNING");

    const tail = harness.supervisor.consoleTail(plan.instanceId);
    expect(tail.some((line) => line.includes(`args --port ${plan.port} nogui`))).toBe(true);
    // The runtime came over HTTP into the content-addressed cache, then into the instance directory.
    expect(served).toContain("/workload.jar");
    expect(await harness.supervisor.artifacts.has(jarSha)).toBe(true);
    expect(sha256(readFileSync(join(harness.config.instancesDirectory, plan.instanceId, "server.jar")))).toBe(
      jarSha,
    );
    // A PAPER plan reaches a daemon only once the EULA is accepted: the daemon wrote eula.txt.
    const eula = join(harness.config.instancesDirectory, plan.instanceId, "eula.txt");
    expect(readFileSync(eula, "utf8")).toMatch(/^eula=true$/m);
    expect(statSync(eula).mode & 0o777).toBe(0o600);

    harness.supervisor.sendCommand(plan.instanceId, "say from-the-daemon");
    const stopped = await harness.supervisor.stop(plan.instanceId);
    expect(stopped).toMatchObject({ accepted: true, step: "command", exit: { exitCode: 0 } });
    expect(
      harness.supervisor.consoleTail(plan.instanceId).some((l) => l.includes("[Server] from-the-daemon")),
    ).toBe(true);
    expect(harness.statesOf(plan.instanceId)).toEqual([
      "PREPARING",
      "STARTING",
      "RUNNING",
      "STOPPING",
      "STOPPED",
    ]);
  });

  test("a tiny -Xmx ends in a real OutOfMemoryError, classified OOM", async () => {
    const plan = await javaPlan("oom", { memoryMb: 16 });
    expect((await harness.supervisor.start({ plan, readiness: { ping: false } })).accepted).toBe(true);
    await harness.waitForState(plan.instanceId, "CRASHED");

    const report = crashOf(plan.instanceId)!;
    expect(report).toMatchObject({
      classification: "OOM",
      exitCode: 1,
      group: "test",
      planHash: plan.planHash,
    });
    expect(report.reason).toContain("java.lang.OutOfMemoryError");
    expect(report.logTail.some((line) => line.includes("java.lang.OutOfMemoryError: Java heap space"))).toBe(
      true,
    );
    expect(harness.supervisor.get(plan.instanceId)!.exit).toEqual({ exitCode: 1, signal: null });
  });

  test("a workload that exits 1 is classified, and three such crashes pause the group", async () => {
    const reports: CrashReport[] = [];
    for (let i = 0; i < 3; i++) {
      const plan = await javaPlan("exit1");
      expect((await harness.supervisor.start({ plan, readiness: { ping: false } })).accepted).toBe(true);
      await harness.waitForState(plan.instanceId, "CRASHED");
      reports.push(crashOf(plan.instanceId)!);
    }
    for (const report of reports) {
      expect(report.classification).toBe("GENERAL_ERROR");
      expect(report.exitCode).toBe(1);
      expect(report.logTail.some((line) => line.includes("Workload asked to fail"))).toBe(true);
    }
    // Same failure on three instances: one signature.
    expect(new Set(reports.map((r) => r.signature)).size).toBe(1);

    let state = INITIAL_CRASH_LOOP_STATE;
    const decisions = [];
    for (const report of reports) {
      const step = recordCrash(state, report.crashedAtMs, report.crashedAtMs);
      state = step.state;
      decisions.push(...step.decisions);
    }
    expect(decisions).toEqual([expect.objectContaining({ type: "pause", crashCount: 3 })]);
    expect(isCrashLoopPaused(state, reports[2]!.crashedAtMs + 1)).toBe(true);
  });
});

describe("template cache integrity", () => {
  test("a tampered cache layer fails the start with a hash mismatch naming the layer and both hashes", async () => {
    const local = await createTestSupervisor({});
    try {
      const { supervisor } = local;
      await supervisor.templates.ensureLayer(SERVER_LAYER.ref, async () => SERVER_LAYER.files);
      const cached = join(supervisor.templates.layerPath(SERVER_LAYER.ref.hash), "server.properties");
      writeFileSync(cached, "server-port=1\nenable-rcon=true\n");

      const plan = testPlan({ port: await freePort() });
      const outcome = await supervisor.start({
        plan,
        launch: { kind: "custom", argv: ["/bin/true"] },
      });
      expect(outcome).toMatchObject({
        accepted: false,
        stage: "TEMPLATE_APPLY",
        errorCode: "TEMPLATE_APPLY_FAILED",
        disposition: "TRANSIENT",
      });
      if (outcome.accepted) throw new Error("unreachable");
      expect(outcome.errorMessage).toContain(SERVER_LAYER.ref.name);
      expect(outcome.errorMessage).toContain(SERVER_LAYER.ref.hash);
      const tamperedHash = /hash to ([0-9a-f]{64})/.exec(outcome.errorMessage)?.[1];
      expect(tamperedHash).toBeDefined();
      expect(tamperedHash).not.toBe(SERVER_LAYER.ref.hash);
      expect(local.statesOf(plan.instanceId)).toEqual(["PREPARING", "CRASHED"]);
      expect(supervisor.usedPorts()).not.toContain(plan.port);

      // The bad copy was moved aside: the retry fetches a clean layer and gets past the templates.
      expect(await supervisor.templates.has(SERVER_LAYER.ref.hash)).toBe(false);
      const retry = await supervisor.start({ plan, launch: { kind: "custom", argv: ["/bin/true"] } });
      expect(retry).toMatchObject({ accepted: true, alreadyApplied: false });
      await local.waitForState(plan.instanceId, "STOPPED");
    } finally {
      await local.cleanup();
    }
  });
});
