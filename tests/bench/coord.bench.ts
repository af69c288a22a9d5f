/**
 * bun run bench:coord — coordination round trips against a real redis-server on loopback:
 * SET+GET pairs (the unit every lease check, ticket lookup and fence check builds on) and the
 * Lua lease acquire/renew. 50 warm-up pairs, then 500 measured, sequential.
 */
import { Redis } from "ioredis";
import { ValkeyCoordination } from "../../src/coord/valkey/valkey-coordination.ts";
import { redisServer } from "../support/servers.ts";
import { fmtMs, percentile } from "./stats.ts";

const redis = await redisServer();
if (!redis.server) throw new Error(redis.skip);
const client = new Redis(redis.server.uri);
const WARMUP = 50;
const SAMPLES = 500;

const pairs: number[] = [];
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const t0 = Bun.nanoseconds();
  await client.set(`bench:key:${i % 16}`, `v${i}`);
  await client.get(`bench:key:${i % 16}`);
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (i >= WARMUP) pairs.push(ms);
}

// The same pair pipelined: one round trip, as callers that need both use it.
const pipelined: number[] = [];
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const t0 = Bun.nanoseconds();
  await client
    .pipeline()
    .set(`bench:key:${i % 16}`, `v${i}`)
    .get(`bench:key:${i % 16}`)
    .exec();
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (i >= WARMUP) pipelined.push(ms);
}

const coord = await ValkeyCoordination.connect({ uri: redis.server.uri, keyPrefix: "bench:" });
const leases: number[] = [];
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const t0 = Bun.nanoseconds();
  await coord.acquireLease(`group:g${i % 8}`, "bench-controller", 30_000);
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (i >= WARMUP) leases.push(ms);
}

console.log(`redis-server ${redis.server.uri} (loopback), ${SAMPLES} samples after ${WARMUP} warm-up`);
console.log(
  `SET+GET round trip: p50 ${fmtMs(percentile(pairs, 50))}, p95 ${fmtMs(percentile(pairs, 95))}, p99 ${fmtMs(percentile(pairs, 99))}  (goal p50 ≤ 0.2 ms, p95 ≤ 0.5 ms)`,
);
console.log(
  `SET+GET pipelined:  p50 ${fmtMs(percentile(pipelined, 50))}, p95 ${fmtMs(percentile(pipelined, 95))}`,
);
console.log(
  `lease acquire/renew (Lua): p50 ${fmtMs(percentile(leases, 50))}, p95 ${fmtMs(percentile(leases, 95))}`,
);
await coord.close();
client.disconnect();
process.exit(0);
