import type { Coordination } from "../../coord/port.ts";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { decodeStored } from "./event-record.ts";
import { STREAM_EXCLUDED } from "./event-types.ts";
import type { SseClient, StreamFilter } from "./sse-client.ts";
import { connectedFrame, errorFrame, eventFrame } from "./sse-frames.ts";
import type { SseHub } from "./sse-hub.ts";
import type { SseTickets } from "./sse-tickets.ts";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // nginx and friends would otherwise buffer the stream and deliver events in lumps
  "x-accel-buffering": "no",
};

const REPLAY_PAGE = 512;

export interface EventStreamDeps {
  hub: SseHub;
  tickets: SseTickets;
  coord: Coordination;
  log: Logger;
}

export interface StreamRequest {
  ticket?: string;
  /** `?lastSequence=`; wins over the header */
  lastSequence?: number;
  /** the `Last-Event-ID` header an EventSource sends when it reconnects */
  lastEventId?: string | null;
  /** comma-separated type names */
  types?: string;
  group?: string;
  /** aborts when the client disconnects */
  signal?: AbortSignal;
}

/** An SSE answer that says one thing and ends: how the stream refuses (the spec's error frames). */
function refusal(message: string): Response {
  return new Response(errorFrame(message), { headers: SSE_HEADERS });
}

export function resumePosition(lastSequence?: number, lastEventId?: string | null): number | undefined {
  if (lastSequence !== undefined) return lastSequence;
  const header = lastEventId?.trim();
  return header && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

export function parseFilter(types?: string, group?: string): StreamFilter {
  const names = (types ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return {
    ...(names.length > 0 ? { types: new Set(names) } : {}),
    ...(group ? { group } : {}),
  };
}

/**
 * GET /api/v1/events/stream: redeem the ticket, take a slot, say `connected`, replay what the
 * client missed, then go live. Replay runs after the response is returned so the client sees
 * `connected` at once; live events that arrive meanwhile wait in the client, in order.
 */
export async function openEventStream(deps: EventStreamDeps, req: StreamRequest): Promise<Response> {
  const holder = await deps.tickets.redeem(req.ticket);
  // A plain 401 envelope, not 200 plus an error frame: clients and proxies see the refusal as one.
  if (!holder) throw new AppError("UNAUTHORIZED", "the stream ticket is invalid, expired or already used");
  const position = resumePosition(req.lastSequence, req.lastEventId);
  const admission = deps.hub.admit({ holder, filter: parseFilter(req.types, req.group), position });
  if (!admission) return refusal("Too many connections");
  const { client, liveFrom } = admission;
  req.signal?.addEventListener("abort", () => client.close("client disconnected"), { once: true });
  client.write(connectedFrame(liveFrom));
  deps.log.debug({ user: holder.username, position, liveFrom }, "event stream client joined");
  void replay(deps, client, position, liveFrom).then(
    () => client.goLive(),
    (err: Error) => {
      deps.log.warn({ err, user: holder.username }, "event replay failed; closing the stream");
      // The client reconnects with its Last-Event-ID and gets another try.
      client.close("replay failed");
    },
  );
  return new Response(client.stream, { headers: SSE_HEADERS });
}

/**
 * Sends the buffered events in (from, liveFrom]; anything later comes live. When the buffer no
 * longer reaches back to `from` (or no longer knows it: a reset buffer) the client gets
 * RESYNC_REQUIRED instead and continues from `liveFrom`.
 */
async function replay(deps: EventStreamDeps, client: SseClient, from: number | undefined, liveFrom: number) {
  if (from === undefined) return; // no position: start at the live edge
  let after = from;
  for (let page = 0; ; page++) {
    const w = await deps.coord.eventsAfter(after, after >= liveFrom ? 0 : REPLAY_PAGE);
    if (client.isClosed) return;
    const first = w.events[0]?.seq;
    // Sequences are contiguous in the buffer, so a missing `after + 1` means it was trimmed.
    const trimmed = after < liveFrom && (first === undefined || first > after + 1);
    const reset = page === 0 && w.latestSeq < from;
    if (trimmed || reset) {
      client.replayResync(
        { lastSequence: from, earliestSequence: w.oldestSeq, latestSequence: w.latestSeq },
        liveFrom,
      );
      return;
    }
    for (const entry of w.events) {
      if (entry.seq > liveFrom) return;
      const event = decodeStored(entry.seq, entry.payload);
      if (event && !STREAM_EXCLUDED.has(event.type)) client.replay(event, eventFrame(event));
      after = entry.seq;
    }
    if (w.events.length < REPLAY_PAGE || after >= liveFrom) return;
  }
}
