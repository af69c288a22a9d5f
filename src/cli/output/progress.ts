import { systemClock } from "../../core/clock.ts";
/** Below this, an upload is over before a bar could be read; no bar is drawn. */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;
const CHUNK = 64 * 1024;
const BAR_WIDTH = 30;

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function progressLine(sent: number, total: number, elapsedMs: number): string {
  const ratio = total === 0 ? 1 : Math.min(1, sent / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? (ratio >= 1 ? "=" : ">") : "");
  const rate = elapsedMs > 0 ? (sent / elapsedMs) * 1000 : 0;
  return `[${bar.padEnd(BAR_WIDTH)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${formatBytes(sent)} / ${formatBytes(total)}  ${formatBytes(rate)}/s`;
}

/**
 * Wraps bytes in a stream that reports how much the HTTP client has pulled: that is what has gone
 * (or is going) onto the wire, which is what a person waiting on an upload wants to see. The bar
 * redraws in place on a TTY; elsewhere nothing is drawn (logs should not fill with carriage returns).
 */
export function uploadWithProgress(
  bytes: Uint8Array,
  stream: { isTTY?: boolean; write(text: string): unknown },
  now: () => number = systemClock.now,
): ReadableStream<Uint8Array> | Uint8Array {
  if (!stream.isTTY || bytes.length < PROGRESS_THRESHOLD_BYTES) return bytes;
  const started = now();
  let offset = 0;
  let lastDraw = started; // first redraw after 100 ms, when there is a rate to show
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        stream.write(`\r${progressLine(bytes.length, bytes.length, now() - started)}\n`);
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + CHUNK);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      if (now() - lastDraw > 100) {
        lastDraw = now();
        stream.write(`\r${progressLine(offset, bytes.length, lastDraw - started)}`);
      }
    },
  });
}
