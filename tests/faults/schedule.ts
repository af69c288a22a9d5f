/**
 * The seeded part of a fault run: which delays and durations each scenario uses. One seed gives one
 * schedule, so a failing run is replayed with `PREXOR_FAULT_SEED=<seed> bun test tests/faults`.
 */
import { seededRandom } from "../support/seeded-random.ts";

export interface FaultSchedule {
  seed: number;
  /** ms between the scale change and the kill of the lease holder */
  killDuringScaleUpMs: number;
  /** ms between the scale change and the SIGSTOP of the lease holder */
  pauseDuringScaleDownMs: number;
  /** how long the lease holder stays stopped */
  pauseHeldMs: number;
  /** how long Redis stays down before it restarts empty */
  redisDownMs: number;
  /** how long a controller is cut from Redis (Mongo still reachable) */
  redisPartitionMs: number;
  /** the first port of the suite's groups, so a run does not collide with other suites' ranges */
  portBase: number;
}

export function scheduleFor(seed: number): FaultSchedule {
  const next = seededRandom(seed);
  const between = (lo: number, hi: number) => Math.round(lo + next() * (hi - lo));
  return {
    seed,
    killDuringScaleUpMs: between(0, 1500),
    pauseDuringScaleDownMs: between(0, 1500),
    pauseHeldMs: between(3000, 6000),
    redisDownMs: between(1000, 4000),
    redisPartitionMs: between(3000, 6000),
    portBase: 20_000 + between(0, 40) * 200,
  };
}

/** PREXOR_FAULT_SEED, or a fresh one (printed by the suite so the run can be replayed). */
export function runSeed(): number {
  const given = process.env.PREXOR_FAULT_SEED;
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`PREXOR_FAULT_SEED must be a non-negative integer, got "${given}"`);
    return seed;
  }
  return Math.floor(Math.random() * 1_000_000);
}
