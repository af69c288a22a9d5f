/**
 * Retention of instance, crash and journey records: STOPPED records leave after 60 s and CRASHED
 * after 300 s (with their composition plan and any start-retry intent), crashes and player journey
 * steps after 30 days, a record re-placed under the same id is kept, one controller prunes at a
 * time, and every controller drops console lines of records that are gone.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CrashLoopGuard } from "../../../src/controller/crashes/crash-loop-guard.ts";
import { type CrashDoc, CrashService } from "../../../src/controller/crashes/crash-service.ts";
import { ConsoleBuffer } from "../../../src/controller/instances/console-buffer.ts";
import { COMPOSITION_PLANS, type InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { RETENTION, RecordPruner } from "../../../src/controller/instances/record-pruner.ts";
import { START_RETRIES } from "../../../src/controller/instances/start-retries.ts";
import {
  type LifecycleDeps,
  StoreInstanceLifecycle,
} from "../../../src/controller/instances/store-instance-lifecycle.ts";
import {
  type JourneyDoc,
  PLAYER_JOURNEY,
  PlayerJourney,
} from "../../../src/controller/players/player-journey.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import type { InstanceState } from "../../../src/core/lifecycle/index.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { Doc, DurableStore } from "../../../src/store/port.ts";
import { storeAdapters } from "../../support/adapters.ts";

const NOW = 10_000_000_000;

function instance(id: string, state: InstanceState, endedAgoMs: number, planHash = `${id}-plan`) {
  return {
    _id: id,
    group: "lobby",
    node: "node-a",
    state,
    port: 30000,
    planHash,
    createdAt: NOW - endedAgoMs - 1000,
    stateChangedAt: NOW - endedAgoMs,
    players: 0,
    reason: "",
    lastCrashId: null,
    startError: null,
  } as Omit<InstanceDoc, "_rev">;
}

function crash(id: string, ageDays: number): Omit<CrashDoc, "_rev"> {
  return {
    _id: id,
    instanceId: "lobby-1",
    group: "lobby",
    node: "node-a",
    exitCode: 1,
    signal: null,
    classification: "GENERAL_ERROR",
    causeSummary: "",
    signature: "s",
    uptimeMs: 1,
    planHash: "p",
    crashedAt: NOW - ageDays * 86_400_000,
    logTail: [],
  };
}

function journeyStep(id: string, ageDays: number): Omit<JourneyDoc, "_rev"> {
  return {
    _id: id,
    playerUuid: "00000000-0000-4000-8000-000000000001",
    playerName: "Steve",
    eventType: "JOIN",
    fromInstanceId: null,
    toInstanceId: "lobby-1",
    group: "lobby",
    timestamp: NOW - ageDays * 86_400_000,
    seq: 1,
  };
}

for (const storeCase of await storeAdapters()) {
  describe.skipIf(Boolean(storeCase.skip))(`record retention on ${storeCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });

    async function seeded(): Promise<DurableStore> {
      const store = await storeCase.open();
      cleanup.push(() => store.close());
      const instances = store.collection<InstanceDoc>("instances");
      await instances.put(instance("stopped-old", "STOPPED", RETENTION.stoppedMs + 1));
      await instances.put(instance("stopped-new", "STOPPED", RETENTION.stoppedMs - 1_000));
      await instances.put(instance("crashed-old", "CRASHED", RETENTION.crashedMs + 1));
      await instances.put(instance("crashed-new", "CRASHED", RETENTION.stoppedMs + 1));
      await instances.put(instance("running-old", "RUNNING", 10 * RETENTION.crashedMs));
      const plans = store.collection<Doc & { planHash: string }>(COMPOSITION_PLANS);
      const retries = store.collection<Doc & { planHash: string }>(START_RETRIES);
      for (const id of ["stopped-old", "crashed-old", "running-old"]) {
        await plans.put({ _id: id, planHash: `${id}-plan` });
        await retries.put({ _id: id, planHash: `${id}-plan` });
      }
      const crashes = store.collection<CrashDoc>("crashes");
      await crashes.put(crash("c-old", RETENTION.crashDays + 1));
      await crashes.put(crash("c-new", RETENTION.crashDays - 1));
      const journey = store.collection<JourneyDoc>(PLAYER_JOURNEY);
      await journey.put(journeyStep("j-old", RETENTION.journeyDays + 1));
      await journey.put(journeyStep("j-new", RETENTION.journeyDays - 1));
      return store;
    }

    /** The real owners of each collection, as the instance wiring builds them. */
    const pruner = (store: DurableStore, coord: MemoryCoordination, console: ConsoleBuffer, id = "c1") => {
      const log = silentLogger();
      const events = { publish: async () => undefined };
      const instances = new InstanceService(store, events, log, () => NOW);
      const plans = new StoreInstanceLifecycle({
        store,
        instances,
        log,
        now: () => NOW,
      } as unknown as LifecycleDeps);
      const crashes = new CrashService(store, instances, {} as CrashLoopGuard, events, log, () => NOW);
      const journey = new PlayerJourney({ store, events, log, now: () => NOW });
      return new RecordPruner({
        instances,
        plans,
        crashes,
        journey,
        coord,
        controllerId: id,
        console,
        log,
        now: () => NOW,
      });
    };

    test("removes exactly the records past their retention, with their plans and retry intents", async () => {
      const store = await seeded();
      const console = new ConsoleBuffer();
      for (const id of ["stopped-old", "running-old"]) console.push(id, { line: "x", timestampMs: 1 });
      const counts = await pruner(store, new MemoryCoordination(), console).prune();
      expect(counts).toEqual({ instances: 2, crashes: 1, journey: 1, consoles: 1 });

      const left = (await store.collection<InstanceDoc>("instances").find({})).map((d) => d._id).sort();
      expect(left).toEqual(["crashed-new", "running-old", "stopped-new"]);
      expect((await store.collection(COMPOSITION_PLANS).find({})).map((d) => d._id)).toEqual(["running-old"]);
      expect((await store.collection(START_RETRIES).find({})).map((d) => d._id)).toEqual(["running-old"]);
      expect((await store.collection("crashes").find({})).map((d) => d._id)).toEqual(["c-new"]);
      expect((await store.collection(PLAYER_JOURNEY).find({})).map((d) => d._id)).toEqual(["j-new"]);
      expect(console.instanceIds()).toEqual(["running-old"]);
    });

    test("a record re-placed under the same id after it was read is kept, with its new plan", async () => {
      const store = await seeded();
      const instances = store.collection<InstanceDoc>("instances");
      // The scheduler reuses a static id: same _id, new plan, SCHEDULED.
      await instances.put(instance("stopped-old", "SCHEDULED", 0, "replacement-plan"));
      await store.collection<Doc & { planHash: string }>(COMPOSITION_PLANS).put({
        _id: "stopped-old",
        planHash: "replacement-plan",
      });
      await pruner(store, new MemoryCoordination(), new ConsoleBuffer()).prune();
      expect((await instances.get("stopped-old"))?.state).toBe("SCHEDULED");
      expect((await store.collection(COMPOSITION_PLANS).get("stopped-old")) !== null).toBe(true);
    });

    test("while another controller holds the pruning lease only console lines are dropped here", async () => {
      const store = await seeded();
      const coord = new MemoryCoordination();
      const held = await coord.acquireLease("record-pruner", "other", 60_000);
      expect(held).not.toBeNull();
      const console = new ConsoleBuffer();
      console.push("never-existed", { line: "x", timestampMs: 1 });
      expect(await pruner(store, coord, console).prune()).toEqual({
        instances: 0,
        crashes: 0,
        journey: 0,
        consoles: 1,
      });
      expect(await store.collection("instances").count({})).toBe(5);
      expect(await store.collection(PLAYER_JOURNEY).count({})).toBe(2);
    });
  });
}
