/**
 * Scheduler tick latency and memory. `bun run bench:scheduler`
 *
 * Each scenario converges a seeded fleet, then disturbs it the way a busy 15 s interval would (two nodes
 * draining, one cordoned, 1 % of instances crashed, a tenth of the DYNAMIC groups under heavy load) and
 * times `scheduleTick` on that input. The quiet (nothing to do) and cold (empty fleet) ticks are shown
 * for context. Exits non-zero when a busy tick misses its target.
 */
import { cpus } from "node:os";
import { scheduleTick } from "../../src/controller/scheduler/index.ts";
import type { SchedInstance, SchedNode, TickInput } from "../../src/controller/scheduler/types.ts";
import { randomFleet, seededRandom } from "../unit/scheduler/fleet.ts";
import { advance, live, runUntilStable, type World } from "../unit/scheduler/harness.ts";

const MB = 1024 * 1024;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? Number.NaN;
}

function timeTicks(
  input: TickInput,
  warmup: number,
  runs: number,
): { p50: number; p95: number; actions: number } {
  let actions = 0;
  for (let k = 0; k < warmup; k++) actions = scheduleTick(input).actions.length;
  const samples: number[] = [];
  for (let k = 0; k < runs; k++) {
    const start = Bun.nanoseconds();
    scheduleTick(input);
    samples.push((Bun.nanoseconds() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), actions };
}

function busy(converged: World, seed: number): World {
  const rand = seededRandom(seed);
  const nodes: SchedNode[] = converged.nodes.map((n, k) =>
    k < 2 ? { ...n, state: "DRAINING" } : k === 2 ? { ...n, cordoned: true } : n,
  );
  const hot = new Set(
    converged.groups.filter((g) => g.scalingMode === "DYNAMIC" && rand() < 0.1).map((g) => g.name),
  );
  const instances: SchedInstance[] = converged.instances.map((i) => {
    if (rand() < 0.01) return { ...i, state: "CRASHED" };
    return { ...i, players: hot.has(i.group) ? 90 + Math.floor(rand() * 10) : Math.floor(rand() * 70) };
  });
  return advance({ ...converged, nodes, instances }, 600_000);
}

interface Scenario {
  readonly label: string;
  readonly groups: number;
  readonly perGroup: number;
  readonly runs: number;
  readonly target?: { readonly p50?: number; readonly p95: number };
}

function runScenario(s: Scenario): boolean {
  const fleet = randomFleet({ seed: 42, nodes: 100, instances: s.groups * s.perGroup, perGroup: s.perGroup });
  const cold = timeTicks(fleet, 2, Math.max(10, Math.floor(s.runs / 10)));
  const converged = runUntilStable(fleet).world;
  const quiet = timeTicks(converged, 5, s.runs);
  const disturbed = busy(converged, 7);
  const hot = timeTicks(disturbed, 10, s.runs);

  const count = live(converged).length.toLocaleString("en-US");
  const fmt = (r: { p50: number; p95: number; actions: number }) =>
    `p50 ${r.p50.toFixed(2)} ms  p95 ${r.p95.toFixed(2)} ms  (${r.actions} actions)`;
  console.log(
    `\n${s.label}: ${fleet.groups.length.toLocaleString("en-US")} groups × 100 nodes, ${count} instances`,
  );
  console.log(`  busy tick   ${fmt(hot)}   [${s.runs} runs]`);
  console.log(`  quiet tick  ${fmt(quiet)}`);
  console.log(`  cold start  ${fmt(cold)}`);
  if (s.target === undefined) return true;
  const { p50, p95 } = s.target;
  const ok = (p50 === undefined || hot.p50 <= p50) && hot.p95 <= p95;
  const wanted = [p50 === undefined ? "" : `p50 ≤ ${p50} ms, `, `p95 ≤ ${p95} ms`].join("");
  console.log(`  target busy ${wanted}: ${ok ? "PASS" : "FAIL"}`);
  return ok;
}

function measureRss(): void {
  Bun.gc(true);
  const baseline = process.memoryUsage();
  const state = runUntilStable(randomFleet({ seed: 5000, nodes: 50, instances: 5000 })).world;
  scheduleTick(state);
  Bun.gc(true);
  const after = process.memoryUsage();
  console.log(
    `state of ${live(state).length.toLocaleString("en-US")} instances, ${state.groups.length} groups, 50 nodes built: ` +
      `rss ${(after.rss / MB).toFixed(1)} MB (before ${(baseline.rss / MB).toFixed(1)} MB), ` +
      `heap used ${(after.heapUsed / MB).toFixed(1)} MB`,
  );
}

/**
 * The controller with 5,000 instances loaded through the real loop and lifecycle (simulated daemons in a
 * third process), in its own process so the figure is not inflated by this bench's fleets.
 * Goal: RSS ≤ 250 MiB.
 */
async function measureControllerRss(): Promise<boolean> {
  const child = Bun.spawn(["bun", new URL("./scheduler-controller-rss.ts", import.meta.url).pathname], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) {
    console.log("controller with 5,000 instances: child process failed");
    return false;
  }
  const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
    instances: number;
    coldTickMs: number;
    coldActions: number;
    allRunningMs: number;
    quietTickMs: number;
    rssMiB: number;
    rssBeforeBootMiB: number;
  };
  const ok = r.instances === 5000 && r.rssMiB <= 250;
  console.log(
    `controller via the real loop: ${r.instances.toLocaleString("en-US")} instances over 50 nodes, 25 groups: ` +
      `rss ${r.rssMiB.toFixed(1)} MiB (process before boot ${r.rssBeforeBootMiB.toFixed(1)} MiB)  ` +
      `[goal ≤ 250 MiB: ${ok ? "PASS" : "FAIL"}]`,
  );
  console.log(
    `  loop tick placing ${r.coldActions.toLocaleString("en-US")} (plans sealed, persisted, dispatched): ` +
      `${r.coldTickMs.toFixed(0)} ms; all RUNNING after ${r.allRunningMs.toFixed(0)} ms;  ` +
      `quiet loop tick (read store, tick, nothing to do): ${r.quietTickMs.toFixed(1)} ms`,
  );
  return ok;
}

const started = Bun.nanoseconds();
console.log(`scheduler bench: Bun ${Bun.version}, ${cpus().length} CPU(s)`);
measureRss();
const controllerOk = await measureControllerRss();
const results = [
  runScenario({ label: "1k", groups: 1000, perGroup: 4, runs: 400, target: { p50: 5, p95: 15 } }),
  runScenario({ label: "10k", groups: 10_000, perGroup: 1, runs: 60, target: { p95: 100 } }),
];
console.log(`\ntotal ${((Bun.nanoseconds() - started) / 1e9).toFixed(1)} s`);
if (results.includes(false) || !controllerOk) process.exitCode = 1;
