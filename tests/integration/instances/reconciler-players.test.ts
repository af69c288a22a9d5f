/**
 * Players are counted by two sources, the plugin's join/leave calls and the node's reports; each
 * applies when it changes, so a node that reports 0 on every heartbeat (it cannot see players)
 * never undoes the plugin's count.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { EventInput } from "../../../src/controller/events/event-types.ts";
import { toInstanceView } from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { LifecycleReconciler } from "../../../src/controller/instances/lifecycle-reconciler.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";

const store = SqliteStore.open({ file: join(tempDir(), "prexor.db") });
afterAll(() => store.close());

test("a node reporting an unchanged count leaves the plugin-reported one alone; a change applies", async () => {
  const published: EventInput[] = [];
  const instances = new InstanceService(
    store,
    { publish: async (e) => void published.push(e) },
    silentLogger(),
  );
  const reconciler = new LifecycleReconciler(
    instances,
    {
      recover: async () => false,
      resendStop: async () => false,
      stopStuck: async () => undefined,
      stopOrphan: async () => undefined,
    },
    silentLogger(),
  );
  const now = Date.now();
  await instances.record({
    _id: "lobby-1",
    group: "lobby",
    node: "node-a",
    state: "STARTING",
    port: 30000,
    planHash: "h",
    createdAt: now,
    stateChangedAt: now,
    players: 3,
  });
  const report = { instanceId: "lobby-1", group: "lobby", port: 30000, playerCount: 0, planHash: "h" };
  await reconciler.update("node-a", { ...report, state: "RUNNING", uptimeMs: 1_000 });
  let doc = await instances.require("lobby-1");
  expect(doc.state).toBe("RUNNING");
  expect(doc.players).toBe(3);
  await reconciler.reconcile("node-a", [{ ...report, state: "RUNNING", uptimeMs: 2_000 }]);
  doc = await instances.require("lobby-1");
  expect(doc.players).toBe(3);
  expect(doc.uptimeMs).toBe(2_000);

  // A node that does count players moves the figure when its count changes, and only then.
  await reconciler.update("node-a", { ...report, playerCount: 2, state: "RUNNING", uptimeMs: 3_000 });
  expect((await instances.require("lobby-1")).players).toBe(2);
  await instances.patch("lobby-1", { players: 4 });
  await reconciler.update("node-a", { ...report, playerCount: 2, state: "RUNNING", uptimeMs: 4_000 });
  expect((await instances.require("lobby-1")).players).toBe(4);
  expect(published.some((e) => e.type === "INSTANCE_STATE_CHANGED")).toBe(true);
});

test("the node's list ping slot limit and sample are stored and shown on the instance", async () => {
  const instances = new InstanceService(store, { publish: async () => {} }, silentLogger());
  let clock = Date.UTC(2026, 0, 1);
  const reconciler = new LifecycleReconciler(
    instances,
    {
      recover: async () => false,
      resendStop: async () => false,
      stopStuck: async () => undefined,
      stopOrphan: async () => undefined,
    },
    silentLogger(),
    () => clock,
  );
  const now = Date.now();
  await instances.record({
    _id: "lobby-2",
    group: "lobby",
    node: "node-a",
    state: "RUNNING",
    port: 30001,
    planHash: "h",
    createdAt: now,
    stateChangedAt: now,
    players: 0,
  });
  const report = { instanceId: "lobby-2", group: "lobby", port: 30001, planHash: "h", state: "RUNNING" };
  expect(toInstanceView(await instances.require("lobby-2"))).toMatchObject({
    maxPlayers: null,
    playerSample: [],
  });
  await reconciler.update("node-a", {
    ...report,
    playerCount: 2,
    maxPlayers: 20,
    playerSample: ["Alex", "Steve"],
    uptimeMs: 1_000,
  });
  expect(toInstanceView(await instances.require("lobby-2"))).toMatchObject({
    playerCount: 2,
    maxPlayers: 20,
    playerSample: ["Alex", "Steve"],
  });
  // A sampled player keeps the time they were first seen while they stay in the sample.
  const doc = await instances.require("lobby-2");
  expect(doc.playerSampleIds).toEqual(["", ""]);
  expect(doc.playerSampleSince).toHaveLength(2);
  const steveSince = doc.playerSampleSince![1]!;
  clock += 1_000;
  await reconciler.update("node-a", {
    ...report,
    playerCount: 2,
    maxPlayers: 20,
    playerSample: ["Steve", "Zoe"],
    uptimeMs: 1_500,
  });
  const later = await instances.require("lobby-2");
  expect(later.playerSampleSince![0]).toBe(steveSince);
  expect(later.playerSampleSince![1]).toBe(steveSince + 1_000);
  // Everyone left: the next report has an empty sample, and the view follows.
  await reconciler.update("node-a", {
    ...report,
    playerCount: 0,
    maxPlayers: 20,
    playerSample: [],
    uptimeMs: 2_000,
  });
  expect(toInstanceView(await instances.require("lobby-2"))).toMatchObject({
    playerCount: 0,
    maxPlayers: 20,
    playerSample: [],
  });
});
