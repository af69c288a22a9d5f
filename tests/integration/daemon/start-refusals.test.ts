/**
 * Starts the supervisor refuses, and how: each refusal names its stage, a stable code and whether
 * retrying the same plan can help (StartInstanceAck), and leaves no process and no port behind.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { chunkedArtifactSource } from "../../../src/daemon/artifacts/index.ts";
import { freePort } from "../../support/ports.ts";
import {
  createTestSupervisor,
  sha256,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";

setDefaultTimeout(30_000);

let harness: TestSupervisor;
const runtime = new TextEncoder().encode("not really a jar");

beforeAll(async () => {
  harness = await createTestSupervisor({ runtimes: new Map([[sha256(runtime), runtime]]) });
});

afterAll(async () => {
  await harness.cleanup();
});

const sleeper = { kind: "custom", argv: ["sleep", "60"] } as const;

test("a plan whose content does not match its hash is refused permanently", async () => {
  const plan = { ...testPlan({ port: await freePort() }), memoryMb: 99_999 };
  expect(await harness.supervisor.start({ plan, launch: sleeper })).toMatchObject({
    accepted: false,
    stage: "VALIDATION",
    errorCode: "PLAN_HASH_MISMATCH",
    disposition: "PERMANENT",
  });
  expect(harness.supervisor.get(plan.instanceId)).toBeUndefined();
});

test("an instance id that could leave the instances directory is refused", async () => {
  const plan = testPlan({ instanceId: "../escape", port: await freePort() });
  expect(await harness.supervisor.start({ plan, launch: sleeper })).toMatchObject({
    accepted: false,
    errorCode: "INVALID_PLAN",
  });
});

test("a port another instance holds is refused as transient", async () => {
  const port = await freePort();
  const first = testPlan({ port });
  expect((await harness.supervisor.start({ plan: first, launch: sleeper })).accepted).toBe(true);
  const second = testPlan({ port });
  expect(await harness.supervisor.start({ plan: second, launch: sleeper })).toMatchObject({
    accepted: false,
    stage: "VALIDATION",
    errorCode: "PORT_UNAVAILABLE",
    disposition: "TRANSIENT",
    retryAfterSeconds: 5,
  });
  expect(harness.supervisor.get(second.instanceId)?.state).toBe("CRASHED");
  await harness.supervisor.stop(first.instanceId, { force: true });
  expect(harness.supervisor.usedPorts()).not.toContain(port);
});

test("a new plan for an instance that is still running is refused until it has stopped", async () => {
  const plan = testPlan({ port: await freePort() });
  expect((await harness.supervisor.start({ plan, launch: sleeper })).accepted).toBe(true);
  const replacement = testPlan({ instanceId: plan.instanceId, port: plan.port, memoryMb: 512 });
  expect(await harness.supervisor.start({ plan: replacement, launch: sleeper })).toMatchObject({
    accepted: false,
    errorCode: "INSTANCE_BUSY",
    disposition: "TRANSIENT",
  });
  await harness.supervisor.stop(plan.instanceId, { force: true });
  expect(await harness.supervisor.start({ plan: replacement, launch: sleeper })).toMatchObject({
    accepted: true,
    alreadyApplied: false,
  });
  await harness.supervisor.stop(plan.instanceId, { force: true });
});

test("a runtime whose bytes do not match the plan's digest is refused permanently", async () => {
  const local = await createTestSupervisor({
    deps: { runtimeSource: () => chunkedArtifactSource([runtime]) },
  });
  try {
    const pinned = sha256(new TextEncoder().encode("other bytes"));
    const plan = testPlan({ port: await freePort(), runtime: { ...testPlan().runtime, sha256: pinned } });
    const outcome = await local.supervisor.start({ plan, launch: sleeper });
    expect(outcome).toMatchObject({
      accepted: false,
      stage: "RUNTIME_PROVISION",
      errorCode: "RUNTIME_HASH_MISMATCH",
      disposition: "PERMANENT",
    });
    expect(await local.supervisor.artifacts.has(pinned)).toBe(false);
  } finally {
    await local.cleanup();
  }
});

test("the JVM path without a runtime digest is refused; a missing java binary fails at PROCESS_START", async () => {
  const noRuntime = testPlan({ port: await freePort() });
  expect(await harness.supervisor.start({ plan: noRuntime })).toMatchObject({
    accepted: false,
    stage: "RUNTIME_PROVISION",
    errorCode: "RUNTIME_UNAVAILABLE",
  });

  const plan = testPlan({
    port: await freePort(),
    runtime: { ...testPlan().runtime, sha256: sha256(runtime) },
  });
  const outcome = await harness.supervisor.start({
    plan,
    launch: { kind: "jvm", javaPath: "/nonexistent/java" },
  });
  expect(outcome).toMatchObject({
    accepted: false,
    stage: "PROCESS_START",
    errorCode: "PROCESS_START_FAILED",
  });
  // The spawn never happened, so the plan is not recorded as applied: a retry may start it.
  const retry = await harness.supervisor.start({ plan, launch: sleeper });
  expect(retry).toMatchObject({ accepted: true, alreadyApplied: false });
  await harness.supervisor.stop(plan.instanceId, { force: true });
});
