/**
 * `group resume` lifts both kinds of pause: the PERMANENT-failure pause GroupPauses keeps and the
 * crash-loop pause its CrashLoopGuard keeps (through the guard, which owns `crash_loops`). Runs on
 * every store adapter.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { CrashLoopGuard } from "../../../src/controller/crashes/crash-loop-guard.ts";
import { GroupPauses } from "../../../src/controller/groups/group-pauses.ts";
import { DEFAULT_CRASH_LOOP_CONFIG } from "../../../src/core/crash/index.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { DurableStore } from "../../../src/store/port.ts";
import { storeAdapters } from "../../support/adapters.ts";

for (const storeCase of await storeAdapters()) {
  describe.skipIf(Boolean(storeCase.skip))(`group pauses: ${storeCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });

    async function setup() {
      const store: DurableStore = await storeCase.open();
      cleanup.push(() => store.close());
      let now = 1_000_000;
      const events = { publish: async () => undefined };
      const log = silentLogger();
      const loops = new CrashLoopGuard(store, events, DEFAULT_CRASH_LOOP_CONFIG, log, () => now);
      const pauses = new GroupPauses(store, loops, events, log, undefined, () => now);
      const advance = (ms: number) => {
        now += ms;
      };
      const crashes = async (group: string, n: number) => {
        for (let k = 0; k < n; k++) await loops.record(group, now);
      };
      return { loops, pauses, advance, crashes };
    }

    test("a crash loop shows as a pause, and resume lifts it and forgets the window", async () => {
      const { loops, pauses, crashes } = await setup();
      await crashes("lobby", DEFAULT_CRASH_LOOP_CONFIG.threshold);
      expect(await loops.isPaused("lobby")).toBe(true);
      expect((await pauses.get("lobby"))?.kind).toBe("crash-loop");
      expect([...(await pauses.all()).keys()]).toEqual(["lobby"]);

      expect(await pauses.resume("lobby")).toBe(true);
      expect(await loops.isPaused("lobby")).toBe(false);
      expect(await pauses.get("lobby")).toBeNull();
      // The window is forgotten: one more crash does not pause again.
      await crashes("lobby", 1);
      expect(await loops.isPaused("lobby")).toBe(false);
      expect(await pauses.resume("lobby")).toBe(false);
    });

    test("a permanent failure outranks a crash loop, and one resume lifts both", async () => {
      const { loops, pauses, crashes } = await setup();
      await crashes("proxy", DEFAULT_CRASH_LOOP_CONFIG.threshold);
      await pauses.pause("proxy", { code: "EULA_NOT_ACCEPTED", message: "no", instanceId: "proxy-1" });
      expect((await pauses.get("proxy"))?.kind).toBe("failure");
      expect(await pauses.resume("proxy")).toBe(true);
      expect(await pauses.get("proxy")).toBeNull();
      expect(await loops.isPaused("proxy")).toBe(false);
    });

    test("an elapsed crash-loop pause is not listed, and resuming it lifts nothing", async () => {
      const { pauses, advance, crashes } = await setup();
      await crashes("hub", DEFAULT_CRASH_LOOP_CONFIG.threshold);
      advance(DEFAULT_CRASH_LOOP_CONFIG.initialCooldownSeconds * 1000 + 1);
      expect(await pauses.get("hub")).toBeNull();
      expect(await pauses.resume("hub")).toBe(false);
    });
  });
}
