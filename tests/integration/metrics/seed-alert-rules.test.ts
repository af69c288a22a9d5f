/**
 * Seed 001 §8's must-page alert rules (docs/prometheus/must-page.rules.yml, verbatim) against what a
 * real controller exports. A fleet controller with one simulated daemon is scraped three times over
 * real HTTP: healthy; after real 5xx answers (a catalog lookup while the downloads API is down, 503)
 * and a real crash-loop pause (a PAPER group whose plans keep failing TRANSIENT); and with its
 * scheduler stopped (the lag gauge, seen to grow in real time). Those samples become promtool input
 * series, and `promtool test rules` checks that every rule fires on the faulted series and none on
 * the healthy one. Every metric name the rules use must be in the scrape.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { tempDir } from "../../support/adapters.ts";
import { freePort } from "../../support/ports.ts";
import { waitFor } from "../../support/wait.ts";
import { type Fleet, startFleet } from "../scheduler/fleet-harness.ts";

const RULES = join(import.meta.dir, "../../../docs/prometheus/must-page.rules.yml");
const dir = tempDir("prexor-promtool-");
let fleet: Fleet;

beforeAll(async () => {
  const closed = await freePort();
  fleet = await startFleet({
    daemons: 1,
    nodeMemoryMb: 8192,
    intervalSeconds: 1,
    // The downloads API is down: catalog lookups answer 503 and PAPER plans fail TRANSIENT.
    yaml: ["catalog:", "  downloads:", `    baseUrl: http://127.0.0.1:${closed}`, "    timeoutMs: 500"].join(
      "\n",
    ),
  });
}, 30_000);
afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Sample = { labels: Record<string, string>; value: number };

/** Samples of `name` in a Prometheus text exposition. */
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (xs: Sample[], where: (l: Record<string, string>) => boolean = () => true) =>
  xs.filter((s) => where(s.labels)).reduce((a, s) => a + s.value, 0);

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${fleet.controller.httpPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function promtool(args: string[]): { code: number | null; out: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
  if (result.error)
    throw new Error(`promtool is required (tests/run.sh installs it): ${result.error.message}`);
  return { code: result.status, out: `${result.stdout}\n${result.stderr}` };
}

/** promtool's expanding notation for a counter that grows by `step` per interval, `n` times. */
const growing = (start: number, step: number, n: number) => `${start}+${step}x${n}`;

test("the seed's must-page rules fire on series scraped from a real run, and stay quiet when healthy", async () => {
  expect(promtool(["check", "rules", RULES]).code).toBe(0);
  // Healthy: a few passes, ordinary reads.
  await waitFor(
    async () => samples(await scrape(), "prexorcloud_scheduler_last_tick_lag_ms")[0]?.value !== 0,
    {
      what: "a first scheduler pass",
      timeoutMs: 15_000,
    },
  );
  for (let i = 0; i < 5; i++) expect((await fleet.api("GET", "/api/v1/groups")).status).toBe(200);
  const healthy = await scrape();
  for (const name of [
    "prexorcloud_crash_loops_total",
    "prexorcloud_scheduler_last_tick_lag_ms",
    "prexorcloud_http_requests_total",
  ]) {
    expect(samples(healthy, name).length).toBeGreaterThan(0);
  }
  const http = samples(healthy, "prexorcloud_http_requests_total");
  expect(http.every((s) => /^[1-5]xx$|^unknown$/.test(s.labels.status_class ?? ""))).toBe(true);

  // Faults, for real: 5xx answers, then a group whose plans keep failing until the crash-loop pause.
  for (let i = 0; i < 5; i++) {
    const res = await fleet.api("POST", "/api/v1/catalog/PAPER/versions", { version: "1.21.4" });
    expect(res.status).toBe(503);
  }
  const errored = await scrape();
  const created = await fleet.api("POST", "/api/v1/groups", {
    name: "lobby",
    platform: "PAPER",
    platformVersion: "1.21.4",
    acceptEula: true,
    scalingMode: "DYNAMIC",
    minInstances: 1,
    maxInstances: 3,
    memoryMb: 1024,
    spreadConstraint: "",
  });
  expect(created.status).toBe(201);
  await waitFor(
    async () => {
      const row = (await (await fleet.api("GET", "/api/v1/groups/lobby")).json()) as {
        pause: { kind: string } | null;
      };
      return row.pause?.kind === "crash-loop" ? true : undefined;
    },
    { what: "the crash-loop pause", timeoutMs: 60_000, intervalMs: 250 },
  );
  const faulted = await scrape();
  const loopsBefore = sum(samples(healthy, "prexorcloud_crash_loops_total"));
  const loopsAfter = sum(samples(faulted, "prexorcloud_crash_loops_total"));
  expect(loopsAfter).toBeGreaterThan(loopsBefore);
  const is5xx = (l: Record<string, string>) => l.status_class === "5xx";
  // The request mix between the healthy scrape and the one after the failed lookups.
  const d5xx = sum(samples(errored, "prexorcloud_http_requests_total"), is5xx) - sum(http, is5xx);
  const dAll = sum(samples(errored, "prexorcloud_http_requests_total")) - sum(http);
  expect(d5xx).toBeGreaterThanOrEqual(5);

  // The scheduler stops passing: the lag gauge grows with real time from its last value.
  const lagHealthy = samples(healthy, "prexorcloud_scheduler_last_tick_lag_ms")[0]!.value;
  await fleet.controller.scheduler.stop();
  const stalledAt = samples(await scrape(), "prexorcloud_scheduler_last_tick_lag_ms")[0]!.value;
  const grown = await waitFor(
    async () => {
      const lag = samples(await scrape(), "prexorcloud_scheduler_last_tick_lag_ms")[0]!.value;
      return lag >= stalledAt + 1000 ? lag : undefined;
    },
    { what: "the lag gauge to grow while no pass runs", timeoutMs: 10_000, intervalMs: 100 },
  );
  expect(lagHealthy).toBeLessThan(30_000);

  // 15 s scrapes over 12 minutes, from the scraped values. Counters continue at the rate seen
  // between the healthy and the faulted scrape; the stalled gauge grows 15000 ms per scrape, as it did.
  const n = 48;
  const job = { job: "prexorcloud", instance: "controller-1:8080" };
  const seriesOf = (labels: Record<string, string>, name: string) =>
    `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}}`;
  const ok2xx = sum(http, (l) => l.status_class === "2xx");
  const healthySeries = [
    { series: seriesOf(job, "up"), values: `1x${n}` },
    { series: seriesOf(job, "prexorcloud_crash_loops_total"), values: `${loopsBefore}x${n}` },
    { series: seriesOf(job, "prexorcloud_scheduler_last_tick_lag_ms"), values: `${lagHealthy}x${n}` },
    {
      series: seriesOf({ ...job, method: "GET", status_class: "2xx" }, "prexorcloud_http_requests_total"),
      values: growing(ok2xx, Math.max(1, dAll - d5xx), n),
    },
    {
      series: seriesOf({ ...job, method: "POST", status_class: "5xx" }, "prexorcloud_http_requests_total"),
      values: `0x${n}`,
    },
  ];
  const faultedSeries = [
    // the controller stops answering scrapes two minutes in
    { series: seriesOf(job, "up"), values: `1x8 0x${n - 8}` },
    {
      series: seriesOf(job, "prexorcloud_crash_loops_total"),
      values: `${loopsBefore}x4 ${loopsAfter}x${n - 4}`,
    },
    {
      series: seriesOf(job, "prexorcloud_scheduler_last_tick_lag_ms"),
      values: `${lagHealthy}x4 ${growing(grown, 15_000, n - 4)}`,
    },
    {
      series: seriesOf({ ...job, method: "GET", status_class: "2xx" }, "prexorcloud_http_requests_total"),
      values: growing(ok2xx, Math.max(0, dAll - d5xx), n),
    },
    {
      series: seriesOf({ ...job, method: "POST", status_class: "5xx" }, "prexorcloud_http_requests_total"),
      values: growing(sum(http, is5xx), d5xx, n),
    },
  ];
  const at = "11m";
  const alerts = (name: string, exp: Array<Record<string, string>>) => ({
    eval_time: at,
    alertname: name,
    exp_alerts: exp.map((labels) => ({ exp_labels: labels })),
  });
  const tests = {
    rule_files: [RULES],
    evaluation_interval: "15s",
    tests: [
      {
        name: "healthy run",
        interval: "15s",
        input_series: healthySeries,
        alert_rule_test: [
          alerts("PrexorCloudControllerDown", []),
          alerts("PrexorCloudCrashLoop", []),
          alerts("PrexorCloudSchedulerLag", []),
          alerts("PrexorCloudHttpErrorBudget", []),
        ],
      },
      {
        name: "faulted run",
        interval: "15s",
        input_series: faultedSeries,
        alert_rule_test: [
          alerts("PrexorCloudControllerDown", [{ ...job, severity: "critical" }]),
          alerts("PrexorCloudCrashLoop", [{ ...job, severity: "critical" }]),
          alerts("PrexorCloudSchedulerLag", [{ ...job, severity: "warning" }]),
          alerts("PrexorCloudHttpErrorBudget", [{ severity: "critical" }]),
        ],
      },
    ],
  };
  const file = join(dir, "must-page.test.yml");
  writeFileSync(file, stringify(tests));
  const result = promtool(["test", "rules", file]);
  if (result.code !== 0) throw new Error(`promtool test rules failed:\n${result.out}\n${stringify(tests)}`);
  console.log(
    `promtool: 4 seed rules fire on the faulted run (5xx ${d5xx}/${dAll} requests, crash loops ${loopsBefore}→${loopsAfter}, lag ${lagHealthy}→${grown} ms) and not on the healthy one`,
  );
}, 120_000);
