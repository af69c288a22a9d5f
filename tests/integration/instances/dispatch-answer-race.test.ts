/**
 * A StartInstance the node answers before the dispatch's own bookkeeping lands: a STALE_FENCE refusal
 * ends the record with its reason while dispatch still holds the record it read before the send.
 * The bookkeeping must not write that old reason back (the CI flake in lost-commands: a STOPPED record
 * that read "manual start of 1"). Runs on every store adapter.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import {
  COMPOSITION_PLANS,
  type InstanceDoc,
  type PlanDoc,
} from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import { buildPlanContent } from "../../../src/controller/instances/plan-builder.ts";
import {
  type LifecycleDeps,
  StoreInstanceLifecycle,
} from "../../../src/controller/instances/store-instance-lifecycle.ts";
import { GroupCreateSchema } from "../../../src/core/groups/group-schema.ts";
import { createCompositionPlan } from "../../../src/core/plan/index.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { DurableStore, Patch, UpdateOptions } from "../../../src/store/port.ts";
import { storeAdapters } from "../../support/adapters.ts";

const T = 1_000_000;
const group = Value.Default(GroupCreateSchema, {
  name: "lobby",
  platform: "PAPER",
  platformVersion: "1.21.4",
}) as Parameters<typeof buildPlanContent>[0]["group"];

/** The record service, with every patch held until the node's answer (if any) has landed. */
class AnswerFirstInstances extends InstanceService {
  answer: Promise<unknown> = Promise.resolve();
  override async patch(id: string, fields: Patch<InstanceDoc>, options?: UpdateOptions) {
    await this.answer;
    return super.patch(id, fields, options);
  }
}

for (const storeCase of await storeAdapters()) {
  describe.skipIf(Boolean(storeCase.skip))(`dispatch racing the node's answer: ${storeCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });

    /** `meanwhile`: what else lands on the record between the send and dispatch's own write. */
    async function setup(
      outcome: "sent" | "no-session",
      meanwhile?: (lifecycle: StoreInstanceLifecycle, instances: InstanceService) => Promise<unknown>,
    ) {
      const store: DurableStore = await storeCase.open();
      cleanup.push(() => store.close());
      const log = silentLogger();
      const instances = new AnswerFirstInstances(store, { publish: async () => undefined }, log, () => T);
      let lifecycle: StoreInstanceLifecycle | undefined;
      const sessions = {
        get: () => undefined,
        deliver: () => {
          if (meanwhile) instances.answer = meanwhile(lifecycle!, instances);
          return outcome;
        },
      };
      lifecycle = new StoreInstanceLifecycle({
        store,
        instances,
        sessions,
        tokens: { mint: async () => "token" },
        log,
        now: () => T,
        controllerUrl: () => "http://127.0.0.1:1",
      } as unknown as LifecycleDeps);
      cleanup.push(async () => lifecycle.close());
      const { content } = buildPlanContent({
        instanceId: "lobby-1",
        nodeId: "node-a",
        port: 30000,
        group,
        artifact: null,
        templates: new Map(),
        controllerUrl: "http://127.0.0.1:1",
        placedAt: T,
      });
      const plan = createCompositionPlan(content, {
        now: new Date(T),
        fencing: { scope: "group:lobby", token: 1 },
      });
      await store.collection<PlanDoc>(COMPOSITION_PLANS).put({
        ...plan,
        _id: "lobby-1",
        dispatch: {
          launchArgv: [],
          readiness: "",
          startupTimeoutSeconds: 60,
          shutdownGraceSeconds: 10,
          maxLifetimeSeconds: 0,
          maxPlayers: 20,
        },
      });
      await instances.record({
        _id: "lobby-1",
        group: "lobby",
        node: "node-a",
        state: "SCHEDULED",
        port: 30000,
        planHash: plan.planHash,
        createdAt: T,
        stateChangedAt: T,
        players: 0,
        reason: "manual start of 1",
      });
      return { instances, lifecycle };
    }

    test("a refusal that lands first keeps its reason; the dispatch is still counted", async () => {
      // The node refuses the start at once; its answer is handled before dispatch's patch runs.
      const { instances, lifecycle } = await setup("sent", (lc) => lc.onStaleFence("node-a", "lobby-1"));
      expect(await lifecycle.dispatch("lobby-1", undefined)).toBe(true);
      const doc = await instances.get("lobby-1");
      expect(doc?.state).toBe("STOPPED");
      expect(doc?.reason).toContain("superseded");
      expect(doc?.dispatchCount).toBe(1);
    });

    test("a start relayed to nobody says so on the record it read", async () => {
      const { instances, lifecycle } = await setup("no-session");
      expect(await lifecycle.dispatch("lobby-1", undefined)).toBe(false);
      const doc = await instances.get("lobby-1");
      expect(doc?.state).toBe("SCHEDULED");
      expect(doc?.reason).toBe("node node-a not connected; start pending");
      expect(doc?.dispatchCount).toBeUndefined();
    });

    test("a record stopped while its start found no session keeps the stop's reason", async () => {
      const { instances, lifecycle } = await setup("no-session", (_lc, records) =>
        records.transition("lobby-1", "STOPPED", "stopped by the operator"),
      );
      expect(await lifecycle.dispatch("lobby-1", undefined)).toBe(false);
      const doc = await instances.get("lobby-1");
      expect(doc?.state).toBe("STOPPED");
      expect(doc?.reason).toBe("stopped by the operator");
    });
  });
}
