/**
 * Durable start retries (`workflow_start_retries`): a TRANSIENT refusal becomes a stored intent that
 * a restarted or another controller resumes; only the controller holding the node's session sends
 * it, a due intent is sent once even when two controllers pump together, and the third refusal
 * gives up.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MAX_START_ATTEMPTS, StartRetries } from "../../../src/controller/instances/start-retries.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { DurableStore } from "../../../src/store/port.ts";
import { storeAdapters } from "../../support/adapters.ts";

const instance = { _id: "lobby-1", group: "lobby", node: "node-a", planHash: "a".repeat(64) };

class RecordingDispatcher {
  readonly sent: string[] = [];
  constructor(private readonly answer = true) {}
  async dispatch(instanceId: string): Promise<boolean> {
    this.sent.push(instanceId);
    return this.answer;
  }
}

for (const storeCase of await storeAdapters()) {
  describe.skipIf(Boolean(storeCase.skip))(`start retries on ${storeCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });
    const open = async (): Promise<DurableStore> => {
      const store = await storeCase.open();
      cleanup.push(() => store.close());
      return store;
    };
    const retries = (store: DurableStore, clock: { now: number }, holds = true) =>
      new StartRetries({ store, holdsSession: () => holds, log: silentLogger(), now: () => clock.now });

    test("a refusal is stored with its retry time and resumed by a fresh instance after a restart", async () => {
      const store = await open();
      const clock = { now: 1_000_000 };
      const first = retries(store, clock);
      expect(await first.refused(instance, "PORT_UNAVAILABLE: busy", 5)).toEqual({
        retry: true,
        attempt: 1,
        retryAt: 1_005_000,
      });
      expect(await first.count()).toBe(1);

      // Another process on the same store: nothing is due before retryAt, then exactly this intent.
      const second = retries(store, clock);
      const dispatcher = new RecordingDispatcher();
      clock.now = 1_004_999;
      expect(await second.pump(dispatcher)).toBe(0);
      clock.now = 1_005_000;
      expect(await second.pump(dispatcher)).toBe(1);
      expect(dispatcher.sent).toEqual(["lobby-1"]);
      // Sent, not yet answered: the intent is held, not due again at once.
      expect(await second.pump(dispatcher)).toBe(0);
      expect((await second.pending("lobby-1"))?.lastError).toBe("PORT_UNAVAILABLE: busy");
    });

    test("a controller without the node's session leaves the intent to the one that has it", async () => {
      const store = await open();
      const clock = { now: 50_000 };
      const elsewhere = retries(store, clock, false);
      await elsewhere.refused(instance, "PORT_UNAVAILABLE: busy", 1);
      clock.now += 1_000;
      const idle = new RecordingDispatcher();
      expect(await elsewhere.pump(idle)).toBe(0);
      expect(idle.sent).toEqual([]);
      const owner = new RecordingDispatcher();
      expect(await retries(store, clock, true).pump(owner)).toBe(1);
    });

    test("two controllers pumping the same due intent send it once", async () => {
      const store = await open();
      const clock = { now: 10_000 };
      await retries(store, clock).refused(instance, "E", 1);
      clock.now += 1_000;
      const a = new RecordingDispatcher();
      const b = new RecordingDispatcher();
      const counts = await Promise.all([retries(store, clock).pump(a), retries(store, clock).pump(b)]);
      expect(counts[0]! + counts[1]!).toBe(1);
      expect(a.sent.length + b.sent.length).toBe(1);
    });

    test(`the ${MAX_START_ATTEMPTS}rd refusal of the same plan gives up and removes the intent`, async () => {
      const store = await open();
      const clock = { now: 0 };
      const r = retries(store, clock);
      expect((await r.refused(instance, "E", 1)).retry).toBe(true);
      expect((await r.refused(instance, "E", 1)).retry).toBe(true);
      expect(await r.refused(instance, "E", 1)).toEqual({ retry: false, attempt: MAX_START_ATTEMPTS });
      expect(await r.pending("lobby-1")).toBeNull();
      // A new plan for the same id starts counting again.
      expect(await r.refused({ ...instance, planHash: "b".repeat(64) }, "E", 1)).toMatchObject({
        retry: true,
        attempt: 1,
      });
    });

    test("an intent whose instance no longer needs starting is dropped", async () => {
      const store = await open();
      const clock = { now: 0 };
      const r = retries(store, clock);
      await r.refused(instance, "E", 1);
      clock.now = 1_000;
      expect(await r.pump(new RecordingDispatcher(false))).toBe(0);
      expect(await r.count()).toBe(0);
    });
  });
}
