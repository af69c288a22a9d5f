/**
 * Report-driven instance writes carry the node session's fence (issue 14): a controller paused past
 * the `node:<id>` lease TTL, while another controller took the node over, cannot land its late
 * heartbeat's writes. Runs on both profiles: embedded + memory, Mongo-wire server + redis-server.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { LifecycleReconciler } from "../../../src/controller/instances/lifecycle-reconciler.ts";
import type { NodeInstanceReport } from "../../../src/controller/nodes/node-doc.ts";
import type { Coordination } from "../../../src/coord/port.ts";
import { AppError } from "../../../src/core/errors.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { DurableStore } from "../../../src/store/port.ts";
import { type AdapterCase, coordAdapters, storeAdapters } from "../../support/adapters.ts";
import { waitFor } from "../../support/wait.ts";

const stores = await storeAdapters();
const coords = await coordAdapters();
const pairs: Array<[AdapterCase<DurableStore>, AdapterCase<Coordination>]> = [
  [stores[0]!, coords[0]!],
  [stores[1]!, coords[1]!],
];

const noStarts = {
  recover: async () => true,
  resendStop: async () => true,
  stopStuck: async () => undefined,
  stopOrphan: async () => undefined,
};

function report(fields: Partial<NodeInstanceReport> = {}): NodeInstanceReport {
  return {
    instanceId: "lobby-1",
    group: "lobby",
    port: 30000,
    playerCount: 0,
    planHash: "plan-1",
    state: "RUNNING",
    uptimeMs: 5000,
    ...fields,
  };
}

async function refusal(fn: () => Promise<unknown>): Promise<unknown> {
  return fn().then(
    () => null,
    (e: unknown) => e,
  );
}

for (const [storeCase, coordCase] of pairs) {
  const skip = storeCase.skip ?? coordCase.skip;
  describe.skipIf(Boolean(skip))(`node session fence: ${storeCase.name} + ${coordCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });

    test("a paused controller's late heartbeat cannot write instance records", async () => {
      const store = await storeCase.open();
      const coord = await coordCase.open();
      cleanup.push(
        () => store.close(),
        () => coord.close(),
      );
      let t = 1_000_000;
      const service = new InstanceService(store, { publish: async () => undefined }, silentLogger(), () => t);
      const controllerA = new LifecycleReconciler(service, noStarts, silentLogger(), () => t);
      const controllerB = new LifecycleReconciler(service, noStarts, silentLogger(), () => t);
      const scope = "node:node-a";

      // The group's planner placed the instance under the group lease.
      const group = (await coord.acquireLease("group:lobby", "controller-a", 10_000))!;
      await service.record(
        {
          _id: "lobby-1",
          group: "lobby",
          node: "node-a",
          state: "STARTING",
          port: 30000,
          planHash: "plan-1",
          createdAt: t,
          stateChangedAt: t,
          players: 0,
        },
        { fence: { scope: "group:lobby", token: group.token } },
      );

      // A holds the node session and applies a heartbeat.
      const leaseA = (await coord.acquireLease(scope, "controller-a", 200))!;
      const fenceA = { scope, token: leaseA.token };
      await controllerA.reconcile("node-a", [report({ playerCount: 1 })], fenceA);
      expect(await service.get("lobby-1")).toMatchObject({ state: "RUNNING", players: 1 });

      // A pauses; the daemon reconnects to B, which takes the node lease and applies its Hello.
      const leaseB = await waitFor(() => coord.acquireLease(scope, "controller-b", 10_000), {
        what: "B to take the node lease",
      });
      expect(leaseB.token).toBeGreaterThan(leaseA.token);
      t += 1000;
      await controllerB.reconcile("node-a", [report({ playerCount: 3 })], { scope, token: leaseB.token });

      // A wakes up and applies the heartbeat and state change it had buffered.
      t += 1000;
      for (const late of [
        () => controllerA.reconcile("node-a", [report({ playerCount: 7 })], fenceA),
        () => controllerA.update("node-a", report({ state: "STOPPED", playerCount: 0 }), fenceA),
        () => controllerA.update("node-a", report({ instanceId: "ghost-1" }), fenceA),
      ]) {
        const err = await refusal(late);
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe("STALE_FENCING_TOKEN");
      }
      const doc = await service.get("lobby-1");
      expect(doc).toMatchObject({ state: "RUNNING", players: 3, _fence: { scope, token: leaseB.token } });
      expect(await service.get("ghost-1")).toBeNull();

      // The same record alternates scopes: a group decision (drain) and then B's next report.
      await service.drain("lobby-1", "scale down", { fence: { scope: "group:lobby", token: group.token } });
      await controllerB.update("node-a", report({ playerCount: 2 }), { scope, token: leaseB.token });
      expect(await service.get("lobby-1")).toMatchObject({ state: "DRAINING", players: 2 });
      // A's stale node fence is still refused although the record's last fence is a group one.
      const err = await refusal(() => controllerA.update("node-a", report({ playerCount: 9 }), fenceA));
      expect((err as AppError).code).toBe("STALE_FENCING_TOKEN");
      expect(await service.get("lobby-1")).toMatchObject({ players: 2 });
    });
  });
}
