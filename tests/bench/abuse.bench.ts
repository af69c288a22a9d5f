/**
 * bun run bench:abuse — health latency and memory of the compiled `prexor up` while 6 clients (6
 * processes) send 20,000-deep JSON bodies to the unauthenticated /auth/login for 10 s, rate limits
 * raised so every body reaches the server. Prints health p50/p99 with no load (the floor, same run)
 * and under attack, their ratio, and RSS growth. Goal (issue 12): p99 ≤ 50 ms, RSS growth ≤ 64 MiB.
 * `ABUSE_BODY=small` sends `[]` instead, at the same rate: the part of the growth that is the
 * request rate itself (garbage-collected heap under ~5,000 requests/s), not the hostile bodies.
 * The floor: a bare compiled Bun.serve that reads each body and answers 400, under the same clients
 * in the same run — the growth the runtime itself shows at this request rate.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import { ready } from "../support/admin-api.ts";
import { startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";
import { fmtMs, percentile } from "./stats.ts";

const CLIENTS = 6;
const SECONDS = Number(process.env.ABUSE_SECONDS ?? 10);
/** RSS taken this far into the attack is the warmed baseline: heap grown to its working size. */
const WARM_MS = 3_000;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

/** Health round trips, one after another, for `ms`; also samples RSS. */
async function probe(
  base: string,
  pid: number,
  ms: number,
): Promise<{ latencies: number[]; peakRss: number; rss: Array<{ at: number; mib: number }> }> {
  const latencies: number[] = [];
  let peakRss = rssMiB(pid);
  const rss: Array<{ at: number; mib: number }> = [];
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/system/health`, { signal: AbortSignal.timeout(5_000) }).catch(
      () => null,
    );
    await res?.arrayBuffer();
    latencies.push(res?.status === 200 ? performance.now() - t0 : 5_000);
    const now = rssMiB(pid);
    rss.push({ at: performance.now() - start, mib: now });
    peakRss = Math.max(peakRss, now);
    await Bun.sleep(20); // pacing of the probe, not synchronisation
  }
  return { latencies, peakRss, rss };
}

/** The clients' attack on `base` for SECONDS; resolves with what they sent and got back. */
function attack(base: string): Array<Promise<{ sent: number; statuses: Record<string, number> }>> {
  return Array.from({ length: CLIENTS }, () => {
    const child = spawn(
      "bun",
      [join(import.meta.dir, "abuse-clients.ts"), base, String(SECONDS), process.env.ABUSE_BODY ?? "deep"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    return new Promise((resolve) =>
      child.on("exit", () => resolve(JSON.parse(out || '{"sent":0,"statuses":{}}'))),
    );
  });
}

/** RSS growth of a bare compiled Bun.serve under the same attack: what the runtime alone grows. */
async function floorGrowth(): Promise<number> {
  const floorDir = tempDir("prexor-abuse-floor-");
  const entry = join(floorDir, "floor.ts");
  writeFileSync(
    entry,
    [
      "Bun.serve({ port: Number(process.argv[2]), hostname: '127.0.0.1', async fetch(req) {",
      "  if (req.method === 'POST') { await req.arrayBuffer(); return Response.json({ error: { code: 'BAD_REQUEST' } }, { status: 400 }); }",
      "  return Response.json({ status: 'UP' });",
      "} });",
    ].join("\n"),
  );
  const outfile = join(floorDir, "floor");
  const built = await Bun.build({ entrypoints: [entry], compile: { outfile } });
  if (!built.success) throw new Error(`floor did not compile: ${built.logs.join("\n")}`);
  const floorPort = await freePort();
  const server = spawn(outfile, [String(floorPort)], { stdio: "ignore" });
  try {
    const base = `http://127.0.0.1:${floorPort}`;
    await waitFor(
      () =>
        fetch(base)
          .then((r) => r.ok)
          .catch(() => false),
      { timeoutMs: 10_000, what: "the floor server" },
    );
    const { peakRss } = await probe(base, server.pid!, 2_000);
    const before = rssMiB(server.pid!);
    const sending = attack(base);
    const attacked = await probe(base, server.pid!, SECONDS * 1000);
    await Promise.all(sending);
    return Math.max(attacked.peakRss, peakRss) - before;
  } finally {
    server.kill();
  }
}

const floor = await floorGrowth();
const dir = tempDir("prexor-abuse-");
mkdirSync(join(dir, "config"), { recursive: true });
writeFileSync(
  join(dir, "config/controller.yml"),
  "security:\n  rateLimiting:\n    perIpPerMinute: 10000000\n    loginPerIpPerMinute: 10000000\n",
);
const port = await freePort();
const up = startBinary(["up", "--dir", dir, "--port", String(port), "--grpc-port", String(await freePort())]);
try {
  await waitFor(() => ready(port), { timeoutMs: 30_000, what: "controller health" });
  const base = `http://127.0.0.1:${port}`;
  const pid = up.child.pid!;
  await probe(base, pid, 2_000); // warm-up
  const idle = await probe(base, pid, 3_000);
  const rssBefore = rssMiB(pid);
  const clients = attack(base);
  const attacked = await probe(base, pid, SECONDS * 1000);
  const results = await Promise.all(clients);
  const rssAfter = rssMiB(pid);
  const sent = results.reduce((n, r) => n + r.sent, 0);
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const idleP99 = percentile(idle.latencies, 99);
  const p99 = percentile(attacked.latencies, 99);
  console.log(
    `bench:abuse — ${CLIENTS} clients × ${SECONDS} s of ${process.env.ABUSE_BODY === "small" ? "[] (control)" : "20,000-deep"} bodies to /auth/login`,
  );
  console.log(
    `  bodies sent         ${sent} (${(sent / SECONDS).toFixed(0)}/s), answers ${JSON.stringify(statuses)}`,
  );
  console.log(
    `  health idle         p50 ${fmtMs(percentile(idle.latencies, 50))}  p99 ${fmtMs(idleP99)}  (floor)`,
  );
  console.log(
    `  health under attack p50 ${fmtMs(percentile(attacked.latencies, 50))}  p99 ${fmtMs(p99)}  (${(p99 / idleP99).toFixed(1)}x floor; goal ≤ 50 ms)`,
  );
  // Growth after warm-up: the attack's own working set is in the baseline, so what remains is
  // what keeps growing with the number of bodies (a leak would show here; heap headroom would not).
  const warm = attacked.rss.find((r) => r.at >= WARM_MS)?.mib ?? rssBefore;
  const laterPeak = Math.max(...attacked.rss.filter((r) => r.at >= WARM_MS).map((r) => r.mib), warm);
  const half = (SECONDS * 1000) / 2;
  const firstHalf = Math.max(...attacked.rss.filter((r) => r.at < half).map((r) => r.mib));
  const secondHalf = Math.max(...attacked.rss.filter((r) => r.at >= half).map((r) => r.mib));
  console.log(
    `  RSS                 before ${rssBefore.toFixed(0)} MiB, peak ${attacked.peakRss.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB, growth ${(attacked.peakRss - rssBefore).toFixed(1)} MiB (goal ≤ 64 MiB; ${((attacked.peakRss - rssBefore) / floor).toFixed(1)}x the floor's ${floor.toFixed(1)} MiB)`,
  );
  console.log(
    `  RSS after warm-up   at ${WARM_MS / 1000} s ${warm.toFixed(0)} MiB, peak after ${laterPeak.toFixed(0)} MiB, growth ${(laterPeak - warm).toFixed(1)} MiB; peak first half ${firstHalf.toFixed(0)} MiB, second half ${secondHalf.toFixed(0)} MiB`,
  );
} finally {
  await up.stop("SIGTERM");
}
