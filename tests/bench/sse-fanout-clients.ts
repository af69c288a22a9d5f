/**
 * The client side of `bun run bench:sse`'s fan-out run, in its own process so 10 000 sockets do
 * not share an event loop (or a file-descriptor limit) with the controller under test.
 *
 * argv: <host> <port> <tickets.json> <events> <timeoutMs>
 * stdout: `READY <connected>` once every stream said `connected`, then `RESULT <json>`.
 *
 * Raw TCP rather than fetch: an HTTP client per stream costs more than the server it measures.
 * Each event's group name carries its send time (`b<i>-<epoch µs>`), so every socket can time its
 * own delivery without any bookkeeping between the processes.
 */
export {};

const [host = "127.0.0.1", portText = "0", ticketsFile = "", eventsText = "1", timeoutText = "60000"] =
  process.argv.slice(2);
const port = Number(portText);
const expectedEvents = Number(eventsText);
const tickets = (await Bun.file(ticketsFile).json()) as string[];
const deadline = Date.now() + Number(timeoutText);

const epochMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const latenciesMs: number[] = [];
let connected = 0;
let failed = 0;
let delivered = 0;

// Scanned as bytes: this process shares two cores with the server it measures, so every
// microsecond it spends per socket read shows up in the latencies.
const NAME = Buffer.from('"groupName":"b');
const CONNECTED = Buffer.from("event: connected");
const ERROR = Buffer.from("event: error");
const FRAME_END = Buffer.from("\n\n");
const DASH = 0x2d;
const QUOTE = 0x22;

interface State {
  carry: Buffer | undefined;
  connected: boolean;
}

function onBytes(state: State, chunk: Buffer): void {
  let bytes = state.carry ? Buffer.concat([state.carry, chunk]) : chunk;
  const cut = bytes.lastIndexOf(FRAME_END);
  if (cut < 0) {
    state.carry = bytes;
    return;
  }
  state.carry = cut + 2 < bytes.length ? bytes.subarray(cut + 2) : undefined;
  bytes = bytes.subarray(0, cut);
  if (!state.connected && bytes.indexOf(CONNECTED) >= 0) {
    state.connected = true;
    connected++;
  }
  if (bytes.indexOf(ERROR) >= 0) failed++;
  let at = bytes.indexOf(NAME);
  if (at < 0) return;
  const now = epochMicros();
  while (at >= 0) {
    let i = bytes.indexOf(DASH, at + NAME.length) + 1;
    let sent = 0;
    for (; i < bytes.length && bytes[i] !== QUOTE; i++) sent = sent * 10 + (bytes[i]! - 48);
    latenciesMs.push((now - sent) / 1000);
    delivered++;
    at = bytes.indexOf(NAME, i);
  }
}

async function open(ticket: string): Promise<void> {
  const state: State = { carry: undefined, connected: false };
  await Bun.connect({
    hostname: host,
    port,
    socket: {
      open(socket) {
        socket.write(
          `GET /api/v1/events/stream?ticket=${ticket}&types=GROUP_CREATED HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      },
      data(_socket, chunk) {
        onBytes(state, chunk as Buffer);
      },
      error() {
        failed++;
      },
    },
  });
}

// Connect in waves: a SYN flood of 10 000 at once only measures the accept queue.
const WAVE = 250;
for (let i = 0; i < tickets.length; i += WAVE) {
  await Promise.all(
    tickets.slice(i, i + WAVE).map((t) =>
      open(t).catch(() => {
        failed++;
      }),
    ),
  );
  while (connected + failed < Math.min(tickets.length, i + WAVE) && Date.now() < deadline) await Bun.sleep(5);
}
while (connected + failed < tickets.length && Date.now() < deadline) await Bun.sleep(10);
console.log(`READY ${connected} ${failed}`);

const wanted = connected * expectedEvents;
while (delivered < wanted && Date.now() < deadline) await Bun.sleep(20);

const sorted = [...latenciesMs].sort((a, b) => a - b);
const pick = (q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
console.log(
  `RESULT ${JSON.stringify({
    connected,
    failed,
    delivered,
    wanted,
    p50: pick(0.5),
    p95: pick(0.95),
    p99: pick(0.99),
    max: sorted.at(-1) ?? NaN,
  })}`,
);
process.exit(0);
