import { systemClock } from "../../core/clock.ts";
import { ApiError, CliError, EXIT } from "../errors.ts";

export interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/**
 * Incremental text/event-stream parser (the WHATWG rules we need): lines end in \n, \r\n or \r;
 * `data:` lines join with \n; a blank line dispatches; `:` lines are keep-alive comments.
 */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") {
      if (this.data.length === 0 && this.event === "") return undefined;
      const message: SseMessage = {
        event: this.event || "message",
        data: this.data.join("\n"),
        ...(this.id !== undefined ? { id: this.id } : {}),
      };
      this.event = "";
      this.data = [];
      return message;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }
}

export async function* readSse(response: Response): AsyncGenerator<SseMessage> {
  if (!response.body) return;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    for (const message of parser.push(decoder.decode(chunk, { stream: true }))) yield message;
  }
}

export interface FollowOptions {
  /** opens one connection; gets the id of the last event seen, if any */
  open(lastEventId: string | undefined): Promise<Response>;
  /** return false to stop following */
  onMessage(message: SseMessage): boolean | undefined;
  onReconnect?(delayMs: number, reason: string): void;
  lastEventId?: string;
  /** stop after this long without any connection succeeding (default: never) */
  giveUpAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
/** `event: error` "Unauthorized" this many times in a row means the credentials, not the network. */
const MAX_AUTH_REJECTIONS = 3;

/**
 * Follows a stream across disconnects: reconnects with exponential backoff and resumes from the
 * last event id (the controller replays what was missed, or sends RESYNC_REQUIRED). A 401/403 when
 * opening is final: retrying cannot fix credentials.
 */
export async function followSse(options: FollowOptions): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  let lastEventId = options.lastEventId;
  let delay = MIN_DELAY_MS;
  let authRejections = 0;
  let failingSince: number | undefined;
  let connected = false;
  for (;;) {
    let reason = "the stream ended";
    try {
      let response: Response;
      try {
        response = await options.open(lastEventId);
      } catch (err) {
        // Retrying only makes sense for a stream that worked: a wrong URL or a controller that is
        // down at the start is reported at once, like any other command.
        if (!connected) throw err instanceof CliError ? err : new FirstConnectError(err);
        throw err;
      }
      connected = true;
      for await (const message of readSse(response)) {
        if (message.id !== undefined) lastEventId = message.id;
        if (message.event === "error") {
          reason = `the controller closed the stream: ${errorText(message.data)}`;
          if (/unauthori[sz]ed/i.test(message.data) && ++authRejections >= MAX_AUTH_REJECTIONS)
            throw new CliError(`the event stream refused our ticket: ${errorText(message.data)}`, EXIT.AUTH);
          continue;
        }
        // Anything but an error proves the connection works: the next drop starts backoff afresh.
        delay = MIN_DELAY_MS;
        authRejections = 0;
        failingSince = undefined;
        if (options.onMessage(message) === false) return;
      }
    } catch (err) {
      if (err instanceof FirstConnectError) throw err.cause;
      if (err instanceof CliError) throw err;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.noRoute)) throw err;
      reason = (err as Error).message;
    }
    failingSince ??= systemClock.now();
    if (options.giveUpAfterMs !== undefined && systemClock.now() - failingSince > options.giveUpAfterMs)
      throw new CliError(`gave up following the stream: ${reason}`);
    options.onReconnect?.(delay, reason);
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

class FirstConnectError extends Error {
  constructor(override readonly cause: unknown) {
    super("first connection failed");
  }
}

function errorText(data: string): string {
  try {
    const parsed = JSON.parse(data) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // plain text
  }
  return data;
}
