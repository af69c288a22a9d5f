/**
 * Stop escalation and the daemon's own timers against real processes (plain POSIX tools, so these
 * run anywhere): a process that ignores its stop command gets SIGTERM, one that ignores SIGTERM too
 * gets SIGKILL, a process that never becomes ready is ended as a crash, and one that reaches its
 * maximum lifetime is stopped cleanly.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../../support/ports.ts";
import { createTestSupervisor, type TestSupervisor, testPlan } from "../../support/workloads/harness.ts";

// Real servers and JVMs on a shared 2-core machine: allow for slow starts.
setDefaultTimeout(30_000);

let harness: TestSupervisor;

beforeAll(async () => {
  harness = await createTestSupervisor({ config: { shutdownTimeoutSeconds: 1, killTimeoutSeconds: 1 } });
});

afterAll(async () => {
  await harness.cleanup();
});

const READY = "echo 'Done (0.001s)! For help, type \"help\"'";

test("a process that ignores its stop command is ended with SIGTERM", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({
    plan,
    launch: { kind: "custom", argv: ["sh", "-c", `${READY}; exec sleep 60`] },
    readiness: { ping: false },
  });
  await harness.waitForState(plan.instanceId, "RUNNING");
  const outcome = await harness.supervisor.stop(plan.instanceId);
  expect(outcome).toMatchObject({ accepted: true, step: "SIGTERM", exit: { signal: "SIGTERM" } });
  // A requested stop is never a crash, however the process ended.
  expect(harness.statesOf(plan.instanceId).at(-1)).toBe("STOPPED");
});

test("a process that also ignores SIGTERM is killed with SIGKILL", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({
    plan,
    // An ignored signal stays ignored across exec, so neither the shell nor sleep reacts to SIGTERM.
    launch: { kind: "custom", argv: ["sh", "-c", `trap '' TERM; ${READY}; sleep 60`] },
    readiness: { ping: false },
  });
  await harness.waitForState(plan.instanceId, "RUNNING");
  const outcome = await harness.supervisor.stop(plan.instanceId);
  expect(outcome).toMatchObject({ accepted: true, step: "SIGKILL", exit: { signal: "SIGKILL" } });
  expect(harness.statesOf(plan.instanceId).at(-1)).toBe("STOPPED");
});

test("a forced stop kills at once", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({
    plan,
    launch: { kind: "custom", argv: ["sh", "-c", `${READY}; exec sleep 60`] },
    readiness: { ping: false },
  });
  await harness.waitForState(plan.instanceId, "RUNNING");
  const outcome = await harness.supervisor.stop(plan.instanceId, { force: true });
  // `sleep` dies on SIGTERM: ending at SIGKILL proves the console command and SIGTERM were skipped.
  expect(outcome).toMatchObject({ step: "SIGKILL", exit: { signal: "SIGKILL" } });
});

test("an instance that is not ready within its startup timeout is ended and reported as a crash", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({
    plan,
    launch: { kind: "custom", argv: ["sh", "-c", "echo 'Loading libraries...'; exec sleep 60"] },
    readiness: { ping: false },
    startupTimeoutSeconds: 1,
  });
  await harness.waitForState(plan.instanceId, "CRASHED");
  expect(harness.statesOf(plan.instanceId)).toEqual(["PREPARING", "STARTING", "CRASHED"]);
  const crash = harness.events.find((e) => e.type === "crash" && e.report.instanceId === plan.instanceId);
  if (crash?.type !== "crash") throw new Error("no crash report");
  expect(crash.report.reason).toContain("not ready within the 1s startup timeout");
  expect(crash.report.logTail).toContain("Loading libraries...");
});

test("an instance that reaches its maximum lifetime is stopped cleanly", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({
    plan,
    // `read` returns on the stop command, like a server reading its console.
    launch: { kind: "custom", argv: ["sh", "-c", `${READY}; read line; echo "got $line"; exit 0`] },
    readiness: { ping: false },
    maxLifetimeSeconds: 1,
  });
  await harness.waitForState(plan.instanceId, "STOPPED");
  expect(harness.statesOf(plan.instanceId)).toEqual([
    "PREPARING",
    "STARTING",
    "RUNNING",
    "STOPPING",
    "STOPPED",
  ]);
  expect(harness.supervisor.consoleTail(plan.instanceId)).toContain("got stop");
});

test("a process that exits 0 on its own is STOPPED, not CRASHED", async () => {
  const plan = testPlan({ port: await freePort() });
  await harness.supervisor.start({ plan, launch: { kind: "custom", argv: ["true"] } });
  await harness.waitForState(plan.instanceId, "STOPPED");
  expect(harness.events.some((e) => e.type === "crash" && e.report.instanceId === plan.instanceId)).toBe(
    false,
  );
});

test("a stop that arrives while the instance is being prepared cancels the start", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const local = await createTestSupervisor({
    deps: {
      fetchLayer: async () => {
        await gate;
        throw new Error("unreachable: the test cancels first");
      },
    },
  });
  try {
    const plan = testPlan({ port: await freePort() });
    const starting = local.supervisor.start({ plan, launch: { kind: "custom", argv: ["sleep", "60"] } });
    await local.waitForState(plan.instanceId, "PREPARING");
    const stopping = local.supervisor.stop(plan.instanceId);
    release();
    expect(await starting).toMatchObject({ accepted: false });
    expect(await stopping).toMatchObject({ accepted: true });
    expect(local.statesOf(plan.instanceId)).toEqual(["PREPARING", "STOPPING", "STOPPED"]);
    expect(local.supervisor.get(plan.instanceId)?.pid).toBeUndefined();
  } finally {
    await local.cleanup();
  }
});
