import { describe, expect, test } from "bun:test";
import {
  jitteredDelay,
  MAX_SAMPLE_NAMES,
  PlayerCountPoller,
  type PlayerStatus,
  type PollTarget,
  playerStatusOf,
} from "../../../src/daemon/supervisor/player-count-poller.ts";

function poller(options: {
  targets: () => readonly PollTarget[];
  ping: (port: number) => Promise<number>;
  concurrency?: number;
}) {
  const changes: [string, number][] = [];
  const p = new PlayerCountPoller({
    intervalMs: 60_000,
    concurrency: options.concurrency ?? 8,
    targets: options.targets,
    ping: async (port) => ({ online: await options.ping(port) }),
    onChange: (id, status) => changes.push([id, status.online]),
  });
  return { p, changes };
}

describe("player count poller", () => {
  test("reports a count when it changes and only then", async () => {
    let online = 0;
    const { p, changes } = poller({
      targets: () => [{ instanceId: "a", port: 1 }],
      ping: async () => online,
    });
    await p.pollOnce();
    await p.pollOnce();
    online = 2;
    await p.pollOnce();
    await p.pollOnce();
    expect(changes).toEqual([
      ["a", 0],
      ["a", 2],
    ]);
    expect(p.count("a")).toBe(2);
  });

  test("a failed ping keeps the last count; a garbage answer is ignored", async () => {
    let answer: () => Promise<number> = async () => 3;
    const { p, changes } = poller({ targets: () => [{ instanceId: "a", port: 1 }], ping: () => answer() });
    await p.pollOnce();
    answer = async () => {
      throw new Error("server list ping timed out");
    };
    await p.pollOnce();
    answer = async () => -1;
    await p.pollOnce();
    expect(changes).toEqual([["a", 3]]);
    expect(p.count("a")).toBe(3);
  });

  test("an instance that is no longer a target loses its count (and a later return reports again)", async () => {
    let targets: PollTarget[] = [{ instanceId: "a", port: 1 }];
    const { p, changes } = poller({ targets: () => targets, ping: async () => 1 });
    await p.pollOnce();
    targets = [];
    await p.pollOnce();
    expect(p.count("a")).toBeUndefined();
    targets = [{ instanceId: "a", port: 1 }];
    await p.pollOnce();
    expect(changes).toEqual([
      ["a", 1],
      ["a", 1],
    ]);
  });

  test("an instance that leaves RUNNING while its ping is in flight is not reported", async () => {
    let targets: PollTarget[] = [{ instanceId: "a", port: 1 }];
    const { p, changes } = poller({
      targets: () => targets,
      ping: async () => {
        targets = [];
        return 4;
      },
    });
    await p.pollOnce();
    expect(changes).toEqual([]);
  });

  test("never more pings in flight than the concurrency bound, and every target is asked", async () => {
    const targets = Array.from({ length: 20 }, (_, i) => ({ instanceId: `i${i}`, port: 1000 + i }));
    let inFlight = 0;
    let peak = 0;
    const asked: number[] = [];
    const { p, changes } = poller({
      targets: () => targets,
      concurrency: 3,
      ping: async (port) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        asked.push(port);
        await Promise.resolve();
        await Promise.resolve();
        inFlight--;
        return port % 5;
      },
    });
    await p.pollOnce();
    expect(peak).toBe(3);
    expect(asked.sort()).toEqual(targets.map((t) => t.port));
    expect(changes).toHaveLength(20);
  });

  test("overlapping rounds share one round", async () => {
    let pings = 0;
    const { p } = poller({
      targets: () => [{ instanceId: "a", port: 1 }],
      ping: async () => {
        pings++;
        return 0;
      },
    });
    await Promise.all([p.pollOnce(), p.pollOnce()]);
    expect(pings).toBe(1);
  });

  test("after stop nothing more is reported", async () => {
    let release: (n: number) => void = () => {};
    const { p, changes } = poller({
      targets: () => [{ instanceId: "a", port: 1 }],
      ping: () => new Promise<number>((resolve) => (release = resolve)),
    });
    p.start();
    const round = p.pollOnce();
    p.stop();
    release(1);
    await round;
    expect(changes).toEqual([]);
  });

  test("a change of the slot limit or the sample is reported too, with the same count", async () => {
    let players: unknown = { online: 2, max: 20, sample: [{ name: "Alex" }, { name: "Steve" }] };
    const seen: PlayerStatus[] = [];
    const p = new PlayerCountPoller({
      intervalMs: 60_000,
      concurrency: 1,
      targets: () => [{ instanceId: "a", port: 1 }],
      ping: async () => playerStatusOf(players)!,
      onChange: (_, status) => seen.push(status),
    });
    await p.pollOnce();
    await p.pollOnce();
    players = { online: 2, max: 40, sample: [{ name: "Alex" }, { name: "Steve" }] };
    await p.pollOnce();
    players = { online: 2, max: 40, sample: [{ name: "Steve" }, { name: "Zoe" }] };
    await p.pollOnce();
    const named = (...names: string[]) => names.map((name) => ({ name, id: "" }));
    expect(seen).toEqual([
      { online: 2, max: 20, sample: named("Alex", "Steve") },
      { online: 2, max: 40, sample: named("Alex", "Steve") },
      { online: 2, max: 40, sample: named("Steve", "Zoe") },
    ]);
    expect(p.status("a")).toEqual({ online: 2, max: 40, sample: named("Steve", "Zoe") });
  });

  test("the players block is read defensively: bad counts refused, sample bounded, ids only when UUIDs", () => {
    expect(playerStatusOf(undefined)).toBeUndefined();
    expect(playerStatusOf({ online: -1 })).toBeUndefined();
    expect(playerStatusOf({ online: 1.5 })).toBeUndefined();
    expect(playerStatusOf({ online: 0, max: "20" })).toEqual({ online: 0 });
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, id: "x" }));
    const status = playerStatusOf({ online: 40, max: 100, sample: [null, { id: "no-name" }, ...many] })!;
    expect(status.sample).toHaveLength(MAX_SAMPLE_NAMES);
    expect(status.sample![0]).toEqual({ name: "p0", id: "" });
    expect(playerStatusOf({ online: 1, sample: [{ name: "x".repeat(500) }] })!.sample![0]!.name).toHaveLength(
      64,
    );
    const uuid = "8667BA71-B85A-4004-AF54-457A9734EED7";
    expect(playerStatusOf({ online: 1, sample: [{ name: "Alex", id: uuid }] })!.sample).toEqual([
      { name: "Alex", id: uuid.toLowerCase() },
    ]);
  });

  test("the delay is jittered ±20 % around the interval", () => {
    expect(jitteredDelay(5000, 0)).toBe(4000);
    expect(jitteredDelay(5000, 0.5)).toBe(5000);
    expect(jitteredDelay(5000, 0.999999)).toBe(6000);
    expect(jitteredDelay(0, 0)).toBe(1);
  });
});
