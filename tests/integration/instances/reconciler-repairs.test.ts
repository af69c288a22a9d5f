/**
 * The reconciler's repairs over a real embedded store (issue 11): what it does when a node's full
 * report disagrees with the records — a node that comes back after its instances were declared
 * lost, a process nobody manages, a start hidden behind an older plan under the same id.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { LifecycleReconciler } from "../../../src/controller/instances/lifecycle-reconciler.ts";
import type { NodeInstanceReport } from "../../../src/controller/nodes/node-doc.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";

const dir = tempDir();
const store = SqliteStore.open({ file: join(dir, "prexor.db") });
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let t = 1_000_000;
const calls: string[] = [];
const instances = new InstanceService(store, { publish: async () => undefined }, silentLogger(), () => t);
/** The repairs the reconciler asks the lifecycle for, recorded. */
const reconcilerLifecycle = {
  recover: async (id: string) => {
    calls.push(`recover ${id}`);
    return true;
  },
  resendStop: async (id: string, force?: boolean) => {
    calls.push(`resendStop ${id}${force ? " force" : ""}`);
    return true;
  },
  stopStuck: async (id: string) => void calls.push(`stopStuck ${id}`),
  stopOrphan: async (node: string, id: string) => void calls.push(`stopOrphan ${node} ${id}`),
};
const reconciler = new LifecycleReconciler(instances, reconcilerLifecycle, silentLogger(), () => t, {
  resendAfterMs: 1000,
  maxSends: 3,
  prepareTimeoutMs: 60_000,
});

function record(id: string, fields: Partial<InstanceDoc>): Promise<unknown> {
  return instances.record({
    _id: id,
    group: "lobby",
    node: "node-a",
    state: "RUNNING",
    port: 30000,
    planHash: "plan-1",
    createdAt: t,
    stateChangedAt: t,
    players: 0,
    ...fields,
  });
}

function report(id: string, fields: Partial<NodeInstanceReport> = {}): NodeInstanceReport {
  return {
    instanceId: id,
    group: "lobby",
    port: 30000,
    playerCount: 0,
    planHash: "plan-1",
    state: "RUNNING",
    uptimeMs: 5000,
    ...fields,
  };
}

beforeEach(async () => {
  calls.length = 0;
  t += 600_000;
  await store.collection("instances").deleteMany({});
});

describe("a node that comes back", () => {
  test("with an instance declared lost while it was away: taken back RUNNING, not killed", async () => {
    await record("lobby-1", { state: "CRASHED", lostAt: t - 30_000, lostReason: "node unreachable" });
    await reconciler.reconcile("node-a", [report("lobby-1")]);
    const doc = await instances.require("lobby-1");
    expect(doc.state).toBe("RUNNING");
    expect(doc.lostReason).toBeUndefined();
    expect(calls).toEqual([]);
  });

  test("with a process whose record ended otherwise: told to stop it, once per resend wait", async () => {
    await record("lobby-2", { state: "STOPPED" });
    await reconciler.reconcile("node-a", [report("lobby-2")]);
    await reconciler.reconcile("node-a", [report("lobby-2")]);
    expect(calls).toEqual(["stopOrphan node-a lobby-2"]);
    t += 1000;
    await reconciler.reconcile("node-a", [report("lobby-2")]);
    expect(calls).toEqual(["stopOrphan node-a lobby-2", "stopOrphan node-a lobby-2"]);
    expect((await instances.require("lobby-2")).state).toBe("STOPPED");
  });

  test("with a process of an id that now belongs to another node's instance: told to stop it", async () => {
    await record("lobby-3", { node: "node-b" });
    await reconciler.reconcile("node-a", [report("lobby-3")]);
    expect(calls).toEqual(["stopOrphan node-a lobby-3"]);
    expect((await instances.require("lobby-3")).node).toBe("node-b");
  });
});

describe("an ended record the node reports ended", () => {
  test("a CRASHED record reported STOPPED keeps its end, unwritten and unwarned, on every report", async () => {
    // Its own service and reconciler, logging into memory: a refused transition is a warning.
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const watched = new InstanceService(store, { publish: async () => undefined }, log, () => t);
    const quiet = new LifecycleReconciler(watched, reconcilerLifecycle, log, () => t, {
      resendAfterMs: 1000,
      maxSends: 3,
      prepareTimeoutMs: 60_000,
    });
    await record("lobby-9", { state: "CRASHED", reason: "exit 1" });
    const before = await instances.require("lobby-9");
    for (let beat = 0; beat < 3; beat++)
      await quiet.reconcile("node-a", [report("lobby-9", { state: "STOPPED", uptimeMs: beat })]);
    expect(await instances.require("lobby-9")).toEqual(before);
    expect(calls).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe("a start hidden behind an older plan under the same id", () => {
  test("an ended older plan listed by the node does not stop the new start being sent again", async () => {
    await record("lobby-4", {
      state: "SCHEDULED",
      planHash: "plan-2",
      dispatchedAt: t - 5000,
      dispatchCount: 1,
    });
    await reconciler.reconcile("node-a", [report("lobby-4", { state: "STOPPED" })]);
    expect(calls).toEqual(["recover lobby-4"]);
  });

  test("a running older plan is stopped, and the new start is still sent", async () => {
    await record("lobby-5", {
      state: "SCHEDULED",
      planHash: "plan-2",
      dispatchedAt: t - 5000,
      dispatchCount: 1,
    });
    await reconciler.reconcile("node-a", [report("lobby-5", { state: "RUNNING" })]);
    expect(calls).toEqual(["stopOrphan node-a lobby-5", "recover lobby-5"]);
  });
});

describe("commands that did not arrive", () => {
  test("a stop the node ignores is sent again, the third forced", async () => {
    await record("lobby-6", { state: "STOPPING", stopSentAt: t - 2000, stopCount: 1 });
    await reconciler.reconcile("node-a", [report("lobby-6")]);
    expect(calls).toEqual(["resendStop lobby-6"]);
    await instances.patch("lobby-6", { stopSentAt: t - 2000, stopCount: 2 });
    await reconciler.reconcile("node-a", [report("lobby-6")]);
    expect(calls).toEqual(["resendStop lobby-6", "resendStop lobby-6 force"]);
  });

  test("a start delivered three times and never taken ends CRASHED", async () => {
    await record("lobby-7", { state: "SCHEDULED", dispatchedAt: t - 2000, dispatchCount: 3 });
    await reconciler.reconcile("node-a", []);
    const doc = await instances.require("lobby-7");
    expect(doc.state).toBe("CRASHED");
    expect(doc.reason).toContain("3 deliveries");
    expect(calls).toEqual([]);
  });

  test("a preparation past its timeout is stopped", async () => {
    await record("lobby-8", { state: "PREPARING", stateChangedAt: t - 61_000 });
    await reconciler.reconcile("node-a", [report("lobby-8", { state: "PREPARING" })]);
    expect(calls).toEqual(["stopStuck lobby-8"]);
  });
});
