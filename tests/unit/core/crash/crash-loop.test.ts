import { describe, expect, test } from "bun:test";
import {
  type CrashLoopConfig,
  type CrashLoopState,
  checkAutoUnpause,
  cooldownSecondsFor,
  DEFAULT_CRASH_LOOP_CONFIG,
  INITIAL_CRASH_LOOP_STATE,
  isCrashLoopPaused,
  manualUnpause,
  recordCrash,
  replayCrashes,
} from "../../../../src/core/crash/crash-loop.ts";

const T0 = Date.UTC(2026, 10, 23, 19, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;

/** Records crashes at the given second offsets, each observed when it happens. */
function crashAt(state: CrashLoopState, ...seconds: number[]) {
  let current = state;
  const decisions = [];
  for (const second of seconds) {
    const step = recordCrash(current, s(second), s(second));
    current = step.state;
    decisions.push(...step.decisions);
  }
  return { state: current, decisions };
}

describe("defaults", () => {
  test("3 crashes in 300 s, cooldown 60 s doubling up to 3600 s", () => {
    expect(DEFAULT_CRASH_LOOP_CONFIG).toMatchObject({
      threshold: 3,
      windowSeconds: 300,
      initialCooldownSeconds: 60,
      maxCooldownSeconds: 3600,
    });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => cooldownSecondsFor(n))).toEqual([
      60, 120, 240, 480, 960, 1920, 3600, 3600, 3600,
    ]);
  });
});

describe("tripping", () => {
  test("two crashes do not pause; the third within the window does", () => {
    const two = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 100);
    expect(two.decisions).toEqual([]);
    expect(isCrashLoopPaused(two.state, s(100))).toBe(false);

    const three = crashAt(two.state, 200);
    expect(three.decisions).toEqual([
      {
        type: "pause",
        crashCount: 3,
        windowStartMs: s(200 - 300),
        pausedUntilMs: s(260),
        cooldownSeconds: 60,
      },
    ]);
    expect(isCrashLoopPaused(three.state, s(259))).toBe(true);
    expect(isCrashLoopPaused(three.state, s(260))).toBe(false);
  });

  test("crashes spread wider than the window never pause", () => {
    const { decisions, state } = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 200, 301, 502, 803, 1104);
    expect(decisions).toEqual([]);
    expect(state.crashTimesMs.length).toBeLessThan(3);
  });

  test("the window edge is inclusive: a crash exactly 300 s old still counts", () => {
    expect(crashAt(INITIAL_CRASH_LOOP_STATE, 0, 150, 300).decisions).toHaveLength(1);
    expect(crashAt(INITIAL_CRASH_LOOP_STATE, 0, 150, 301).decisions).toHaveLength(0);
  });

  test("crashes while paused are recorded but do not pause again", () => {
    const paused = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state;
    const more = crashAt(paused, 30, 40);
    expect(more.decisions).toEqual([]);
    expect(more.state.crashTimesMs).toEqual([s(0), s(10), s(20), s(30), s(40)]);
    expect(more.state.pausedUntilMs).toBe(s(80));
  });

  test("a crash reported late is placed by when it happened", () => {
    let state = crashAt(INITIAL_CRASH_LOOP_STATE, 100, 200).state;
    // Replayed after a reconnect: happened at 150, reported at 250.
    const late = recordCrash(state, s(150), s(250));
    expect(late.state.crashTimesMs).toEqual([s(100), s(150), s(200)]);
    expect(late.decisions[0]).toMatchObject({ type: "pause", pausedUntilMs: s(310) });
    // One that fell out of the window before it was reported does not count.
    state = crashAt(INITIAL_CRASH_LOOP_STATE, 500, 600).state;
    expect(recordCrash(state, s(100), s(650)).decisions).toEqual([]);
  });

  test("a custom threshold and window are honoured", () => {
    const config: CrashLoopConfig = { ...DEFAULT_CRASH_LOOP_CONFIG, threshold: 2, windowSeconds: 10 };
    let state = recordCrash(INITIAL_CRASH_LOOP_STATE, s(0), s(0), config).state;
    expect(recordCrash(state, s(11), s(11), config).decisions).toEqual([]);
    state = recordCrash(state, s(11), s(11), config).state;
    expect(recordCrash(state, s(15), s(15), config).decisions[0]).toMatchObject({
      type: "pause",
      crashCount: 2,
    });
  });
});

describe("auto-unpause and backoff", () => {
  test("unpauses once the cooldown has elapsed, not before", () => {
    const paused = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state;
    expect(checkAutoUnpause(paused, s(79))).toEqual({ state: paused, decisions: [] });
    const lifted = checkAutoUnpause(paused, s(80));
    expect(lifted.decisions).toEqual([{ type: "unpause", reason: "cooldown-elapsed" }]);
    expect(lifted.state.pausedUntilMs).toBeNull();
    expect(lifted.state.lastUnpausedAtMs).toBe(s(80));
    expect(checkAutoUnpause(lifted.state, s(81)).decisions).toEqual([]);
  });

  test("the window survives an auto-unpause, so one more crash re-pauses with a doubled cooldown", () => {
    let state = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state; // paused until 80
    state = checkAutoUnpause(state, s(80)).state;
    const again = crashAt(state, 90);
    expect(again.decisions).toEqual([
      {
        type: "pause",
        crashCount: 4,
        windowStartMs: s(90 - 300),
        pausedUntilMs: s(90 + 120),
        cooldownSeconds: 120,
      },
    ]);
  });

  test("backoff doubles per consecutive pause and caps at 3600 s", () => {
    let state = INITIAL_CRASH_LOOP_STATE;
    let now = 0;
    const cooldowns: number[] = [];
    for (let i = 0; i < 9; i++) {
      // Three quick crashes: enough to trip even after older ones left the window.
      const step = crashAt(state, now, now + 1, now + 2);
      const pause = step.decisions.find((d) => d.type === "pause");
      if (pause?.type !== "pause") throw new Error("expected a pause");
      cooldowns.push(pause.cooldownSeconds);
      now = (pause.pausedUntilMs - T0) / 1000;
      state = checkAutoUnpause(step.state, s(now)).state;
    }
    expect(cooldowns).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  test("recordCrash lifts an elapsed pause itself and can pause again in the same step", () => {
    const paused = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state; // until 80
    const step = recordCrash(paused, s(100), s(100));
    expect(step.decisions.map((d) => d.type)).toEqual(["unpause", "pause"]);
    expect(step.decisions[1]).toMatchObject({ cooldownSeconds: 120, pausedUntilMs: s(220) });
  });

  test("a long calm after an unpause starts the backoff over", () => {
    let state = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state; // pause #1, until 80
    state = checkAutoUnpause(state, s(80)).state;
    state = crashAt(state, 90).state; // pause #2 (120 s), until 210
    state = checkAutoUnpause(state, s(210)).state;
    const calm = 210 + 3600;
    const next = crashAt(state, calm, calm + 5, calm + 10);
    expect(next.decisions).toEqual([expect.objectContaining({ type: "pause", cooldownSeconds: 60 })]);
    expect(next.state.consecutivePauses).toBe(1);
  });
});

describe("manual unpause", () => {
  test("clears the pause, the window and the backoff", () => {
    let state = crashAt(INITIAL_CRASH_LOOP_STATE, 0, 10, 20).state;
    state = checkAutoUnpause(state, s(80)).state;
    state = crashAt(state, 90).state; // second pause, 120 s
    state = manualUnpause(s(100));
    expect(isCrashLoopPaused(state, s(100))).toBe(false);
    expect(state.crashTimesMs).toEqual([]);
    expect(state.consecutivePauses).toBe(0);
    // Needs a full threshold again, and starts at the initial cooldown.
    expect(crashAt(state, 110, 120).decisions).toEqual([]);
    expect(crashAt(state, 110, 120, 130).decisions[0]).toMatchObject({ cooldownSeconds: 60 });
  });
});

describe("replayCrashes (rebuild after a restart)", () => {
  test("a loop still in its cooldown comes back paused", () => {
    const state = replayCrashes([s(20), s(0), s(10)], s(30));
    expect(isCrashLoopPaused(state, s(30))).toBe(true);
    expect(state.pausedUntilMs).toBe(s(80));
  });

  test("a loop whose cooldown elapsed comes back unpaused, with its backoff level kept", () => {
    const state = replayCrashes([s(0), s(10), s(20)], s(500));
    expect(isCrashLoopPaused(state, s(500))).toBe(false);
    expect(state.consecutivePauses).toBe(1);
  });

  test("crashes from the future are ignored and old ones leave nothing behind", () => {
    const state = replayCrashes([s(0), s(10), s(10_000)], s(5_000));
    expect(state.crashTimesMs).toEqual([]);
    expect(isCrashLoopPaused(state, s(5_000))).toBe(false);
    expect(replayCrashes([s(4_800), s(4_900)], s(5_000)).crashTimesMs).toEqual([s(4_800), s(4_900)]);
  });
});
