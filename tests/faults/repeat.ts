/**
 * `bun run faults:repeat [runs] [firstSeed]`: the fault suite N times in a row, seeds firstSeed,
 * firstSeed+1, …; stops at the first failing run (its seed replays it) and prints, per scenario,
 * the recovery times measured across the runs beside their goals.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const runs = Number(process.argv[2] ?? 20);
const firstSeed = Number(process.argv[3] ?? Math.floor(Math.random() * 1_000_000));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(firstSeed) || firstSeed < 0) {
  console.error("usage: bun run faults:repeat [runs ≥ 1] [firstSeed ≥ 0]");
  process.exit(2);
}
const root = resolve(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "prexor-faults-repeat-"));
const report = join(scratch, "recoveries.ndjson");
let passed = 0;
const started = performance.now();
for (let k = 0; k < runs; k++) {
  const seed = firstSeed + k;
  const runStarted = performance.now();
  const result = spawnSync("bun", ["test", "--timeout", "240000", "tests/faults"], {
    cwd: root,
    env: { ...process.env, PREXOR_FAULT_SEED: String(seed), PREXOR_FAULT_REPORT: report, TMPDIR: scratch },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = ((performance.now() - runStarted) / 1000).toFixed(0);
  if (result.status !== 0) {
    console.log(
      `run ${k + 1}/${runs} (seed ${seed}) FAILED after ${seconds} s; replay: PREXOR_FAULT_SEED=${seed} bun test tests/faults`,
    );
    console.log(
      `${result.stdout}\n${result.stderr}`
        .split("\n")
        .filter((l) => /\(fail\)|error:|last check|unsettled|^\+ |full logs/.test(l))
        .slice(0, 30)
        .join("\n"),
    );
    break;
  }
  passed++;
  console.log(`run ${k + 1}/${runs} (seed ${seed}) passed in ${seconds} s`);
}

interface Recovery {
  scenario: string;
  ms: number;
  goalMs: number;
}
let lines: Recovery[] = [];
try {
  lines = readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recovery);
} catch {
  // no run got as far as a recovery
}
const byScenario = new Map<string, Recovery[]>();
for (const r of lines) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
console.log("\nrecovery per scenario (ms): p50 / max over the runs, goal, runs within the goal");
for (const [scenario, list] of byScenario) {
  const sorted = list.map((r) => r.ms).sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const within = list.filter((r) => r.ms <= r.goalMs).length;
  console.log(
    `  ${scenario}: ${p50} / ${sorted.at(-1)} (goal ≤ ${list[0]!.goalMs}; ${within}/${list.length} within)`,
  );
}
console.log(
  `\n${passed} of ${runs} consecutive runs passed in ${((performance.now() - started) / 60_000).toFixed(1)} min`,
);
rmSync(scratch, { recursive: true, force: true });
process.exit(passed === runs ? 0 : 1);
