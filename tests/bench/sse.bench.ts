/**
 * bun run bench:sse — REST mutation to SSE delivery.
 *
 * 1. Latency: `POST /api/v1/groups` → the matching GROUP_CREATED frame at one subscribed client,
 *    sequential, 20 warm-up + 200 measured, on the development profile (embedded store, in-memory
 *    coordination) and again with Valkey coordination when a redis-server is available.
 * 2. Fan-out: 10 000 connected stream clients (a separate process, see sse-fanout-clients.ts);
 *    20 group creations 250 ms apart; the delivery latency of every event at every client.
 *
 * Goals: (1) p50 ≤ 5 ms, p95 ≤ 20 ms; (2) p95 ≤ 100 ms. Exits non-zero when one is missed.
 * Everything is bounded: the whole run is killed after BENCH_TIMEOUT_MS (default 240 s).
 * The 10 000 server-side sockets need a file-descriptor limit above ~10 100 for this process;
 * the client process raises its own soft limit to the hard limit (`ulimit -n`).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ControllerConfig } from "../../src/config/controller-schema.ts";
import { SseReader } from "../integration/events/sse-reader.ts";
import { tempDir } from "../support/adapters.ts";
import { startTestController, type TestController } from "../support/controller.ts";
import { redisServer } from "../support/servers.ts";
import { fmtMs, percentile } from "./stats.ts";

const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 10_000);
const FANOUT_EVENTS = 20;
const WARMUP = 20;
const SAMPLES = 200;
const watchdog = setTimeout(
  () => {
    console.error("bench:sse timed out");
    process.exit(2);
  },
  Number(process.env.BENCH_TIMEOUT_MS ?? 240_000),
);

// The test baseline already allows 100 000 requests a minute per IP and per user.
const roomForAll = (c: ControllerConfig) => {
  c.sse.maxClients = CLIENTS + 100;
};

let serial = 0;
const groupName = () => `b${serial++}-${Math.round((performance.timeOrigin + performance.now()) * 1000)}`;

async function ticketFor(ctl: TestController, token: string): Promise<string> {
  const res = await ctl.call("POST", "/api/v1/events/ticket", { token });
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

async function latencyRun(label: string, yaml: string): Promise<{ p50: number; p95: number }> {
  const ctl = await startTestController(yaml, roomForAll);
  try {
    const token = await ctl.login();
    const reader = await SseReader.open(
      `${ctl.url}/api/v1/events/stream?ticket=${await ticketFor(ctl, token)}&types=GROUP_CREATED`,
    );
    await reader.next((f) => f.event === "connected");
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const name = groupName();
      const started = performance.now();
      const res = await ctl.call("POST", "/api/v1/groups", { token, body: { name } });
      if (res.status !== 201) throw new Error(`POST /api/v1/groups: ${res.status} ${await res.text()}`);
      const frame = await reader.next((f) => f.data.includes(`"groupName":"${name}"`), 5000);
      if (i >= WARMUP) samples.push(frame.at - started);
    }
    reader.close();
    const p50 = percentile(samples, 50);
    const p95 = percentile(samples, 95);
    console.log(
      `${label}: POST /api/v1/groups → GROUP_CREATED at the client, ${SAMPLES} samples: p50 ${fmtMs(p50)}, p95 ${fmtMs(p95)}, p99 ${fmtMs(percentile(samples, 99))}, max ${fmtMs(Math.max(...samples))}`,
    );
    return { p50, p95 };
  } finally {
    await ctl.stop();
  }
}

interface FanoutResult {
  connected: number;
  failed: number;
  delivered: number;
  wanted: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Starts the client process against `port` with these tickets, waits until every stream is
 * connected, lets `drive` send the events, and returns what the clients measured.
 */
async function withClients(
  port: string,
  tickets: string[],
  drive: () => Promise<void>,
): Promise<FanoutResult> {
  const file = join(tempDir("prexor-sse-bench-"), "tickets.json");
  writeFileSync(file, JSON.stringify(tickets));
  const script = join(import.meta.dir, "sse-fanout-clients.ts");
  const child = spawn(
    "bash",
    [
      "-c",
      `ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"`,
      process.execPath,
      script,
      "127.0.0.1",
      port,
      file,
      String(FANOUT_EVENTS),
      "150000",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines: string[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts.filter(Boolean));
  });
  const line = async (prefix: string, timeoutMs: number): Promise<string> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found) return found;
      if (child.exitCode !== null || Date.now() > until) throw new Error(`fan-out client: no ${prefix} line`);
      await Bun.sleep(20);
    }
  };
  try {
    const connectStart = performance.now();
    const [, connected, failed] = (await line("READY", 150_000)).split(" ");
    console.log(
      `  ${connected} streams connected (${failed} failed) in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`,
    );
    await drive();
    return JSON.parse((await line("RESULT", 60_000)).slice("RESULT ".length)) as FanoutResult;
  } finally {
    child.kill("SIGKILL");
  }
}

async function fanoutRun(): Promise<FanoutResult> {
  const ctl = await startTestController("", roomForAll);
  try {
    const token = await ctl.login();
    const started = performance.now();
    const tickets: string[] = [];
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Math.min(100, CLIENTS - i);
      tickets.push(...(await Promise.all(Array.from({ length: batch }, () => ticketFor(ctl, token)))));
    }
    console.log(`fan-out: ${CLIENTS} tickets in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return await withClients(new URL(ctl.url).port, tickets, async () => {
      for (let i = 0; i < FANOUT_EVENTS; i++) {
        const res = await ctl.call("POST", "/api/v1/groups", { token, body: { name: groupName() } });
        if (res.status !== 201) throw new Error(`POST /api/v1/groups: ${res.status}`);
        await Bun.sleep(250);
      }
    });
  } finally {
    await ctl.stop();
  }
}

/**
 * The same clients against a bare TCP server that writes each frame straight to every socket:
 * no HTTP framework, no streams, no store. What it measures is this machine's floor (one send()
 * per client per event, and the client process's reads, on the same cores).
 */
async function floorRun(): Promise<FanoutResult> {
  const sockets: Array<{ write(data: string | Uint8Array): number }> = [];
  const server = Bun.listen<{ answered: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { answered: false };
      },
      data(socket) {
        if (socket.data.answered) return;
        socket.data.answered = true;
        socket.write(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nevent: connected\ndata: {}\n\n",
        );
        sockets.push(socket);
      },
    },
  });
  try {
    const tickets = Array.from({ length: CLIENTS }, (_, i) => `t${i}`);
    return await withClients(String(server.port), tickets, async () => {
      const encoder = new TextEncoder();
      for (let i = 0; i < FANOUT_EVENTS; i++) {
        const frame = encoder.encode(`event: message\ndata: {"groupName":"${groupName()}"}\n\n`);
        for (const socket of sockets) socket.write(frame);
        await Bun.sleep(250);
      }
    });
  } finally {
    server.stop(true);
  }
}

const describeFan = (fan: FanoutResult) =>
  `${fan.delivered}/${fan.wanted} deliveries: p50 ${fmtMs(fan.p50)}, p95 ${fmtMs(fan.p95)}, p99 ${fmtMs(fan.p99)}, max ${fmtMs(fan.max)}`;

const misses: string[] = [];
const memory = await latencyRun("embedded store + in-memory coordination", "");
if (memory.p50 > 5 || memory.p95 > 20) misses.push("latency (in-memory coordination)");
const redis = await redisServer();
if (redis.server) {
  const valkey = await latencyRun(
    "embedded store + Valkey coordination",
    `redis:\n  uri: ${redis.server.uri}`,
  );
  if (valkey.p50 > 5 || valkey.p95 > 20) misses.push("latency (Valkey coordination)");
} else {
  console.log(`Valkey run skipped: ${redis.skip}`);
}

console.log(`fan-out: ${CLIENTS} clients × ${FANOUT_EVENTS} events (POST /api/v1/groups, 250 ms apart)`);
const fan = await fanoutRun();
console.log(`fan-out: ${describeFan(fan)}  (goal p95 ≤ 100 ms)`);
if (fan.connected < CLIENTS || fan.delivered < fan.wanted)
  misses.push("fan-out (not every client got every event)");
if (!(fan.p95 <= 100)) misses.push("fan-out p95");
console.log(`floor: bare TCP server, same ${CLIENTS} clients × ${FANOUT_EVENTS} frames`);
const floor = await floorRun();
console.log(`floor: ${describeFan(floor)}`);

clearTimeout(watchdog);
console.log(misses.length === 0 ? "all goals met" : `missed: ${misses.join(", ")}`);
process.exit(misses.length === 0 ? 0 : 1);
