/**
 * bun run bench:start — the daemon side of a start.
 *
 * 1. The flying-squid workload's own boot time: spawn → its `Done (…)!` line, without the daemon.
 * 2. The supervisor's "plan persisted → RUNNING": from calling `start(plan)` (the controller has
 *    persisted and dispatched the plan) to the RUNNING report, for the same workload. The difference
 *    to (1) is the daemon's overhead: port probe, template fetch/verify/materialize, spawn, readiness.
 * 3. Template materialization throughput: 2,000 files / 50 MB across 4 layers, into the cache
 *    (verify + publish) and into an instance directory (re-verify + compose + write).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { TemplateFile } from "../../src/core/templates/index.ts";
import { hashTemplateFiles } from "../../src/core/templates/index.ts";
import { materialize, TemplateCache } from "../../src/daemon/materialize/index.ts";
import { freePort } from "../support/ports.ts";
import { createTestSupervisor, flyingSquidLaunch, LAUNCHER, testPlan } from "../support/workloads/harness.ts";
import { fmtMs, percentile } from "./stats.ts";

const RUNS = 7;
const DONE = /Done \(\d+(?:[.,]\d+)?s\)!/;

function summary(values: number[]): string {
  return `median ${fmtMs(percentile(values, 50))}, p90 ${fmtMs(percentile(values, 90))}, worst ${fmtMs(Math.max(...values))}`;
}

async function workloadBoot(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = Bun.spawn({
    cmd: [process.execPath, LAUNCHER, "--port", String(port)],
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
  });
  let elapsed = Number.NaN;
  const decoder = new TextDecoder();
  let text = "";
  // Keep reading until exit: the workload must never find its stdout unread.
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      if (Number.isNaN(elapsed) && DONE.test(text)) {
        elapsed = performance.now() - started;
        child.stdin.write("stop\n");
        child.stdin.flush();
      }
    }
  })();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await child.exited;
  await reading;
  clearTimeout(timer);
  if (Number.isNaN(elapsed)) throw new Error("workload printed no Done line");
  return elapsed;
}

/**
 * Alternates the bare boot and the supervised start, so both samples see the same background load
 * (this machine is shared; a block of one followed by a block of the other measures the neighbours).
 */
async function startSamples(): Promise<{ boot: number[]; toRunning: number[]; toSpawned: number[] }> {
  const harness = await createTestSupervisor();
  const boot: number[] = [];
  const toRunning: number[] = [];
  const toSpawned: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      boot.push(await workloadBoot());
      const plan = testPlan({ port: await freePort() });
      const started = performance.now();
      const outcome = await harness.supervisor.start({ plan, launch: flyingSquidLaunch() });
      toSpawned.push(performance.now() - started);
      if (!outcome.accepted) throw new Error(`start refused: ${outcome.errorMessage}`);
      await harness.waitForState(plan.instanceId, "RUNNING");
      toRunning.push(performance.now() - started);
      const stopped = await harness.supervisor.stop(plan.instanceId);
      if (!stopped.accepted) throw new Error("stop refused");
    }
  } finally {
    await harness.cleanup();
  }
  return { boot, toRunning, toSpawned };
}

/** 4 layers × 500 files: mostly binary (jars, regions), some config files that get merged. */
function syntheticLayers(): { name: string; hash: string; files: TemplateFile[] }[] {
  const encoder = new TextEncoder();
  const layers = [];
  for (let l = 0; l < 4; l++) {
    const files: TemplateFile[] = [];
    for (let f = 0; f < 450; f++) {
      files.push({ path: `layer${l}/data/region-${f}.bin`, bytes: randomBytes(29_100) });
    }
    for (let f = 0; f < 50; f++) {
      // Shared across layers, so the upper layers merge into the lower ones.
      files.push({
        path: `config/plugin-${f}.yml`,
        bytes: encoder.encode(`plugin:\n  name: p${f}\n  layer${l}: true\n  port: %PORT%\n`),
      });
    }
    layers.push({ name: `layer-${l}`, hash: hashTemplateFiles(files), files });
  }
  return layers;
}

async function materializeThroughput(): Promise<void> {
  const layers = syntheticLayers();
  const files = layers.reduce((n, layer) => n + layer.files.length, 0);
  const bytes = layers.reduce((n, layer) => n + layer.files.reduce((s, f) => s + f.bytes.byteLength, 0), 0);
  const mb = bytes / 1024 / 1024;
  const ingest: number[] = [];
  const build: number[] = [];
  let written = { files: 0, bytes: 0 };
  for (let run = 0; run < 3; run++) {
    const dir = mkdtempSync(join(tmpdir(), "prexor-bench-tpl-"));
    try {
      const cache = new TemplateCache(join(dir, "cache"));
      let started = performance.now();
      for (const layer of layers) await cache.ensureLayer(layer, async () => layer.files);
      ingest.push(performance.now() - started);
      started = performance.now();
      const result = await materialize(cache, {
        layers,
        instanceDir: join(dir, "instances", "bench-1"),
        variables: { PORT: "30000" },
        staticInstance: false,
        protectedPaths: [],
      });
      build.push(performance.now() - started);
      written = { files: result.files, bytes: result.bytes };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const rate = (ms: number, n: number) => (n / (ms / 1000)).toFixed(0);
  const ingestMs = percentile(ingest, 50);
  const buildMs = percentile(build, 50);
  console.log(`template layers: 4 layers, ${files} files, ${mb.toFixed(1)} MiB in; median of 3 runs`);
  console.log(
    `  cache ingest (hash-verify, write, publish):        ${fmtMs(ingestMs)} → ${(mb / (ingestMs / 1000)).toFixed(0)} MiB/s, ${rate(ingestMs, files)} files/s`,
  );
  console.log(
    `  materialize (re-verify, compose, write instance):  ${fmtMs(buildMs)} → ${(mb / (buildMs / 1000)).toFixed(0)} MiB/s, ${rate(buildMs, files)} files/s read` +
      ` (${written.files} files / ${(written.bytes / 1024 / 1024).toFixed(1)} MiB written)`,
  );
}

const { boot, toRunning, toSpawned } = await startSamples();

console.log(`flying-squid workload, ${RUNS} runs each, on ${navigator.hardwareConcurrency} cores`);
console.log(`  workload boot alone (spawn → Done line):          ${summary(boot)}`);
console.log(`  supervisor start() → RUNNING (plan → ready):      ${summary(toRunning)}`);
console.log(`    of which start() → spawned (prepare + spawn):   ${summary(toSpawned)}`);
console.log(
  `  daemon overhead (median RUNNING − median boot):   ${fmtMs(percentile(toRunning, 50) - percentile(boot, 50))}` +
    ` (load average ${loadavg()[0]!.toFixed(2)})`,
);
await materializeThroughput();
process.exit(0);
