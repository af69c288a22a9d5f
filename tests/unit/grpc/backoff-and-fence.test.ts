import { describe, expect, test } from "bun:test";
import { Backoff } from "../../../src/daemon/link/backoff.ts";
import { FenceGuard } from "../../../src/daemon/link/fence-guard.ts";
import { ControllerMessage, FrameErrorCode, StartInstance, StopInstance } from "../../../src/wire/index.ts";

describe("reconnect backoff", () => {
  const settings = { initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0 };

  test("doubles from the initial delay up to the cap, and starts over after reset", () => {
    const b = new Backoff(settings);
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
    b.reset();
    expect(b.next()).toBe(1000);
  });

  test("jitter spreads each delay within ±jitter and never past the cap", () => {
    const low = new Backoff({ ...settings, jitter: 0.2 }, () => 0);
    const high = new Backoff({ ...settings, jitter: 0.2 }, () => 0.999999);
    expect([low.next(), low.next()]).toEqual([800, 1600]);
    expect([high.next(), high.next()]).toEqual([1200, 2400]);
    const capped = new Backoff({ ...settings, jitter: 0.5 }, () => 0.999999);
    for (let i = 0; i < 10; i++) expect(capped.next()).toBeLessThanOrEqual(60_000);
  });

  test("two daemons with different randomness do not redial in step", () => {
    const a = new Backoff({ ...settings, jitter: 0.2 }, () => 0.1);
    const b = new Backoff({ ...settings, jitter: 0.2 }, () => 0.9);
    expect(a.next()).not.toBe(b.next());
  });
});

const start = (epoch: number, scope: string, token: number) =>
  ControllerMessage.create({
    epoch,
    frame: {
      case: "startInstance",
      value: StartInstance.create({ instanceId: "i", fence: { scope, token } }),
    },
  });
const ping = (epoch: number) =>
  ControllerMessage.create({
    epoch,
    frame: { case: "ping", value: { sequence: 1, controllerGrpcAddrs: [] } },
  });

describe("daemon fencing", () => {
  test("epochs: HelloAck sets the floor, lower is STALE_EPOCH, higher raises it, 0 is unfenced", () => {
    const guard = new FenceGuard();
    guard.onHelloAck(5);
    expect(guard.check(ping(5)).ok).toBe(true);
    const stale = guard.check(ping(4));
    expect(stale.ok === false && stale.code).toBe(FrameErrorCode.STALE_EPOCH);
    expect(guard.check(ping(7)).ok).toBe(true);
    expect(guard.highestEpoch).toBe(7);
    expect(guard.check(ping(6)).ok).toBe(false);
    expect(guard.check(ping(0)).ok).toBe(true);
  });

  test("lease fences: the highest token per scope wins, scopes are independent", () => {
    const guard = new FenceGuard();
    guard.onHelloAck(1);
    expect(guard.check(start(1, "group:lobby", 10)).ok).toBe(true);
    const stale = guard.check(start(1, "group:lobby", 9));
    expect(stale.ok === false && stale.code).toBe(FrameErrorCode.STALE_FENCE);
    expect(guard.check(start(1, "group:lobby", 10)).ok).toBe(true);
    expect(guard.check(start(1, "group:survival", 1)).ok).toBe(true);
    const stop = ControllerMessage.create({
      epoch: 1,
      frame: {
        case: "stopInstance",
        value: StopInstance.create({ instanceId: "i", fence: { scope: "group:lobby", token: 3 } }),
      },
    });
    expect(guard.check(stop).ok).toBe(false);
  });

  test("fences survive a reconnect, unless the epoch went backwards (coordination state was lost)", () => {
    const guard = new FenceGuard();
    guard.onHelloAck(4);
    guard.check(start(4, "group:lobby", 10));
    expect(guard.onHelloAck(6)).toBe(false);
    expect(guard.check(start(6, "group:lobby", 9)).ok).toBe(false);
    expect(guard.onHelloAck(1)).toBe(true);
    expect(guard.check(start(1, "group:lobby", 2)).ok).toBe(true);
  });
});
