/**
 * bun run bench:deploy — controller overhead of a rolling deployment.
 *
 * A real controller (embedded store, gRPC over mTLS, its own lifecycle) with simulated daemons that
 * report RUNNING the moment a StartInstance arrives, so workload boot is zero and what remains is the
 * controller: a STATIC group of 200 instances restarted in batches of 20 (surge 20). Per wave:
 * previous wave's replacements RUNNING (the decision's trigger) → the tick decides → 20 old ones
 * stopped → 20 replacements placed (record, sealed plan, StartInstance) → the last of them received
 * by a daemon. The floor, measured in the same run, is `group start --count 20` on a MANUAL group:
 * the same 20 placements without any deployment around them.
 */
import { rmSync } from "node:fs";
import { customGroup, startFleet } from "../integration/scheduler/fleet-harness.ts";
import { waitFor } from "../support/wait.ts";
import { fmtMs, percentile } from "./stats.ts";

const INSTANCES = 200;
const BATCH = 20;
const DAEMONS = 10;
const FLOOR_RUNS = 5;

const fleet = await startFleet({ daemons: DAEMONS, nodeMemoryMb: 256_000, intervalSeconds: 15 });
const starts = () => fleet.daemons.flatMap((d) => d.startLog);
const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

try {
  // Floor: 20 placements asked for at once, to the last StartInstance received.
  const created = await fleet.api(
    "POST",
    "/api/v1/groups",
    customGroup("floor", { scalingMode: "MANUAL", maxInstances: FLOOR_RUNS * BATCH, memoryMb: 64 }),
  );
  if (created.status !== 201) throw new Error(`floor group: ${created.status} ${await created.text()}`);
  const floors: number[] = [];
  for (let run = 0; run < FLOOR_RUNS; run++) {
    const before = starts().length;
    const asked = performance.now();
    // Daemons' logs are concatenated, so what arrived since is picked by time, not by position.
    const res = await fleet.api("POST", `/api/v1/groups/floor/start?count=${BATCH}`);
    if (res.status !== 202) throw new Error(`floor start: ${res.status} ${await res.text()}`);
    await waitFor(() => starts().length - before >= BATCH, {
      timeoutMs: 60_000,
      intervalMs: 2,
      what: "floor starts",
    });
    const last = Math.max(
      ...starts()
        .slice(before)
        .map((s) => s.at),
    );
    floors.push(last - asked);
  }

  const group = await fleet.api(
    "POST",
    "/api/v1/groups",
    customGroup("bench", {
      scalingMode: "STATIC",
      minInstances: INSTANCES,
      maxInstances: INSTANCES,
      memoryMb: 64,
    }),
  );
  if (group.status !== 201) throw new Error(`bench group: ${group.status} ${await group.text()}`);
  type Inst = { state: string };
  await waitFor(
    async () =>
      (
        await json<{ data: Inst[] }>(await fleet.api("GET", "/api/v1/services?group=bench&pageSize=500"))
      ).data.filter((i) => i.state === "RUNNING").length === INSTANCES,
    { timeoutMs: 300_000, intervalMs: 200, what: `${INSTANCES} bench instances RUNNING` },
  );

  const triggered = performance.now();
  const res = await fleet.api("POST", "/api/v1/groups/bench/restart", { batchSize: BATCH });
  if (res.status !== 202) throw new Error(`restart: ${res.status} ${await res.text()}`);
  type Dep = { state: string; waves: Array<{ replaced: Array<{ new: string | null }> }> };
  const done = await waitFor(
    async () => {
      const d = await json<Dep>(await fleet.api("GET", "/api/v1/groups/bench/deployments/1"));
      return d.state === "COMPLETED"
        ? d
        : d.state === "IN_PROGRESS"
          ? undefined
          : Promise.reject(new Error(d.state));
    },
    { timeoutMs: 600_000, intervalMs: 50, what: "the restart COMPLETED" },
  );
  const total = performance.now() - triggered;
  const after = starts().filter((s) => s.at >= triggered);
  const startedAt = new Map<string, number>();
  for (const s of after) startedAt.set(s.instanceId, Math.max(startedAt.get(s.instanceId) ?? 0, s.at));
  const placedAt = done.waves.map((w) =>
    Math.max(...w.replaced.map((r) => startedAt.get(r.new ?? "") ?? Number.NaN)),
  );
  const overhead: number[] = [];
  let previous = triggered;
  for (const at of placedAt) {
    overhead.push(at - previous);
    previous = at;
  }
  const floor = percentile(floors, 50);
  const p50 = percentile(overhead, 50);
  const p95 = percentile(overhead, 95);
  console.log(
    `deploy bench: ${INSTANCES} instances, batches of ${BATCH}, ${DAEMONS} simulated daemons (workload boot 0)`,
  );
  console.log(
    `  waves: ${done.waves.length}, restart total ${fmtMs(total)}, StartInstance frames ${after.length}`,
  );
  console.log(
    `  floor (group start --count ${BATCH}, ${FLOOR_RUNS} runs): median ${fmtMs(floor)}, worst ${fmtMs(Math.max(...floors))}`,
  );
  console.log(
    `  per-wave overhead (replacements RUNNING → decision → ${BATCH} stops → ${BATCH} placements received): p50 ${fmtMs(p50)} (${(p50 / floor).toFixed(2)}× floor), p95 ${fmtMs(p95)} (${(p95 / floor).toFixed(2)}× floor), worst ${fmtMs(Math.max(...overhead))}`,
  );
  console.log(`  per-wave overhead beyond the floor: p50 ${fmtMs(p50 - floor)}, p95 ${fmtMs(p95 - floor)}`);
} finally {
  await fleet.stop();
  rmSync(fleet.root, { recursive: true, force: true });
}
