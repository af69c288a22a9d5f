/**
 * The lifecycle's own writes (start acks, repairs, stale-fence answers) and the crash service's
 * writes carry the node session's fence (issue 14): a controller paused past the `node:<id>` lease
 * TTL, while another controller took the node over, cannot land them; the new holder's go through.
 * Runs on both profiles: embedded + memory, Mongo-wire server + redis-server.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CrashLoopGuard } from "../../../src/controller/crashes/crash-loop-guard.ts";
import { CRASHES, CrashService } from "../../../src/controller/crashes/crash-service.ts";
import { SessionRegistry } from "../../../src/controller/grpc/session-registry.ts";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { START_RETRIES } from "../../../src/controller/instances/start-retries.ts";
import {
  type LifecycleDeps,
  StoreInstanceLifecycle,
} from "../../../src/controller/instances/store-instance-lifecycle.ts";
import type { Coordination } from "../../../src/coord/port.ts";
import { AppError } from "../../../src/core/errors.ts";
import type { InstanceState } from "../../../src/core/lifecycle/index.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { DurableStore, Fence } from "../../../src/store/port.ts";
import { FailureDisposition, StartStage } from "../../../src/wire/index.ts";
import { type AdapterCase, coordAdapters, storeAdapters } from "../../support/adapters.ts";
import { waitFor } from "../../support/wait.ts";

const stores = await storeAdapters();
const coords = await coordAdapters();
const pairs: Array<[AdapterCase<DurableStore>, AdapterCase<Coordination>]> = [
  [stores[0]!, coords[0]!],
  [stores[1]!, coords[1]!],
];

const SCOPE = "node:node-a";

function ack(accepted: boolean) {
  return {
    instanceId: "lobby-1",
    planHash: "plan-1",
    accepted,
    alreadyApplied: false,
    stage: StartStage.UNSPECIFIED,
    errorCode: accepted ? "" : "PORT_UNAVAILABLE",
    errorMessage: accepted ? "" : "port in use",
    disposition: accepted ? FailureDisposition.UNSPECIFIED : FailureDisposition.TRANSIENT,
    retryAfterSeconds: 1,
  };
}

async function refusal(fn: () => Promise<unknown>): Promise<string | null> {
  return fn().then(
    () => null,
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );
}

for (const [storeCase, coordCase] of pairs) {
  const skip = storeCase.skip ?? coordCase.skip;
  describe.skipIf(Boolean(skip))(
    `lifecycle and crash writes fenced: ${storeCase.name} + ${coordCase.name}`,
    () => {
      const cleanup: Array<() => Promise<void>> = [];
      afterEach(async () => {
        for (const fn of cleanup.splice(0)) await fn();
      });

      /** A's node fence, then B takes the node and writes once, so A's fence is stale. */
      async function setup(state: InstanceState, extra: Partial<InstanceDoc> = {}) {
        const store = await storeCase.open();
        const coord = await coordCase.open();
        cleanup.push(
          () => store.close(),
          () => coord.close(),
        );
        const t = 1_000_000;
        const log = silentLogger();
        const instances = new InstanceService(store, { publish: async () => undefined }, log, () => t);
        const sessions = new SessionRegistry();
        // Only what the paths under test touch: the store, the records, the sessions.
        const lifecycle = new StoreInstanceLifecycle({
          store,
          instances,
          sessions,
          log,
          now: () => t,
          controllerUrl: () => "http://127.0.0.1:1",
        } as unknown as LifecycleDeps);
        const loops = { record: async () => undefined } as unknown as CrashLoopGuard;
        const crashes = new CrashService(
          store,
          instances,
          loops,
          { publish: async () => undefined },
          log,
          () => t,
        );
        const group = (await coord.acquireLease("group:lobby", "controller-a", 10_000))!;
        await instances.record(
          {
            _id: "lobby-1",
            group: "lobby",
            node: "node-a",
            state,
            port: 30000,
            planHash: "plan-1",
            createdAt: t,
            stateChangedAt: t,
            players: 0,
            ...extra,
          },
          { fence: { scope: "group:lobby", token: group.token } },
        );
        const leaseA = (await coord.acquireLease(SCOPE, "controller-a", 200))!;
        const stale: Fence = { scope: SCOPE, token: leaseA.token };
        const leaseB = await waitFor(() => coord.acquireLease(SCOPE, "controller-b", 10_000), {
          what: "B to take the node lease",
        });
        const current: Fence = { scope: SCOPE, token: leaseB.token };
        // B's first report-driven write raises the scope's high-water mark.
        await instances.patch("lobby-1", { reportedAt: t }, { fence: current });
        const before = await instances.get("lobby-1");
        return { store, instances, lifecycle, crashes, stale, current, before };
      }

      test("a start ack (accepted or refused) under a stale node fence is refused", async () => {
        const { store, lifecycle, instances, stale, current, before } = await setup("SCHEDULED");
        expect(await refusal(() => lifecycle.onStartAck("node-a", ack(true), stale))).toBe(
          "STALE_FENCING_TOKEN",
        );
        expect(await refusal(() => lifecycle.onStartAck("node-a", ack(false), stale))).toBe(
          "STALE_FENCING_TOKEN",
        );
        expect(await instances.get("lobby-1")).toEqual(before);
        // The refusal's retry intent is the stale session's decision too: not written.
        expect(await store.collection(START_RETRIES).count({})).toBe(0);
        await lifecycle.onStartAck("node-a", ack(true), current);
        expect(await instances.get("lobby-1")).toMatchObject({ state: "PREPARING", _fence: current });
        lifecycle.close();
      });

      test("a stale-fence answer and a stuck-start repair under a stale node fence are refused", async () => {
        const { lifecycle, instances, stale, current, before } = await setup("SCHEDULED");
        expect(await refusal(() => lifecycle.onStaleFence("node-a", "lobby-1", stale))).toBe(
          "STALE_FENCING_TOKEN",
        );
        expect(await refusal(() => lifecycle.stopStuck("lobby-1", "stuck", stale))).toBe(
          "STALE_FENCING_TOKEN",
        );
        expect(await instances.get("lobby-1")).toEqual(before);
        await lifecycle.onStaleFence("node-a", "lobby-1", current);
        expect(await instances.get("lobby-1")).toMatchObject({ state: "STOPPED", _fence: current });
        lifecycle.close();
      });

      test("a stop re-sent under a stale node fence is refused", async () => {
        const { lifecycle, instances, stale, current, before } = await setup("STOPPING", {
          stopFence: { scope: "group:lobby", token: 1 },
          stopCount: 1,
        });
        expect(await refusal(() => lifecycle.resendStop("lobby-1", false, stale))).toBe(
          "STALE_FENCING_TOKEN",
        );
        expect(await instances.get("lobby-1")).toEqual(before);
        await lifecycle.resendStop("lobby-1", false, current);
        expect(await instances.get("lobby-1")).toMatchObject({ stopCount: 2, _fence: current });
        lifecycle.close();
      });

      test("a crash report under a stale node fence records nothing and leaves the instance", async () => {
        const { store, crashes, instances, stale, current, before } = await setup("RUNNING");
        const report = {
          instanceId: "lobby-1",
          group: "lobby",
          exitCode: 1,
          signal: "",
          logTail: ["boom"],
          uptimeMs: 1000,
          planHash: "plan-1",
        };
        expect(await refusal(() => crashes.report("node-a", report, stale))).toBe("STALE_FENCING_TOKEN");
        expect(await instances.get("lobby-1")).toEqual(before);
        expect(await store.collection(CRASHES).count({})).toBe(0);
        const stored = await crashes.report("node-a", report, current);
        expect(stored?._fence).toEqual(current);
        expect(await instances.get("lobby-1")).toMatchObject({ state: "CRASHED", lastCrashId: stored!._id });
      });
    },
  );
}
