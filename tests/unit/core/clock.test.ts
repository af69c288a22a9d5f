import { describe, expect, test } from "bun:test";
import { withLease } from "../../../src/controller/lease-gate.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { systemClock } from "../../../src/core/clock.ts";
import { isAppError } from "../../../src/core/errors.ts";
import { ManualClock } from "../../support/manual-clock.ts";

describe("ManualClock", () => {
  test("time moves only through advance; timers fire in due order at their own time", async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    const cancelled = clock.setTimeout(() => fired.push("never"), 15);
    clock.clearTimeout(cancelled);
    expect(clock.now()).toBe(1000);
    await clock.advance(19);
    expect(fired).toEqual(["a@1010"]);
    await clock.advance(1);
    expect(fired).toEqual(["a@1010", "b@1020"]);
    expect(clock.now()).toBe(1020);
  });

  test("an interval fires once per period passed and stops when cleared", async () => {
    const clock = new ManualClock(0);
    let ticks = 0;
    const handle = clock.setInterval(() => ticks++, 100);
    await clock.advance(350);
    expect(ticks).toBe(3);
    clock.clearInterval(handle);
    await clock.advance(1000);
    expect(ticks).toBe(3);
  });

  test("sleep ends on advance, or at once when its signal aborts", async () => {
    const clock = new ManualClock(0);
    let slept = false;
    const sleeping = clock.sleep(500).then(() => {
      slept = true;
    });
    await clock.advance(499);
    expect(slept).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(slept).toBe(true);

    const wake = new AbortController();
    const early = clock.sleep(60_000, wake.signal);
    wake.abort();
    await early;
    expect(clock.scheduled).toEqual([]);
  });
});

describe("systemClock", () => {
  test("an aborted sleep resolves without waiting for its timer", async () => {
    const wake = new AbortController();
    const sleeping = systemClock.sleep(3_600_000, wake.signal);
    wake.abort();
    await sleeping;
    expect(true).toBe(true);
  });
});

describe("lease gate on a manual clock", () => {
  test("waits for a lease another controller holds and gives up at its deadline, in clock time", async () => {
    const clock = new ManualClock();
    const coord = new MemoryCoordination(clock.now);
    const other = await coord.acquireLease("group:lobby", "controller-b", 60_000);
    expect(other).not.toBeNull();
    let ran = false;
    const attempt = withLease(
      { coord, holder: "controller-a", waitMs: 3000, clock },
      "group:lobby",
      async () => {
        ran = true;
      },
    ).catch((err: unknown) => err);
    await clock.advance(2999);
    expect(ran).toBe(false);
    await clock.advance(400);
    const outcome = await attempt;
    expect(isAppError(outcome, "CONFLICT")).toBe(true);
    expect(ran).toBe(false);
  });

  test("takes the lease as soon as its holder lets go", async () => {
    const clock = new ManualClock();
    const coord = new MemoryCoordination(clock.now);
    const other = (await coord.acquireLease("group:lobby", "controller-b", 60_000))!;
    const attempt = withLease(
      { coord, holder: "controller-a", waitMs: 3000, clock },
      "group:lobby",
      async (fence) => {
        return fence.token;
      },
    );
    await clock.advance(50);
    await coord.releaseLease(other);
    await clock.advance(200);
    expect(await attempt).toBeGreaterThan(other.token);
  });
});
