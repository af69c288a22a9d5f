import { eventView } from "./event-record.ts";
import type { BusEvent } from "./event-types.ts";

const encoder = new TextEncoder();

/**
 * SSE frames as bytes. A live event is encoded once and the same bytes go to every client, which
 * is what keeps fan-out to thousands of streams cheap. JSON never contains a raw newline, so each
 * frame's data fits on one `data:` line.
 */
export function eventFrame(event: BusEvent): Uint8Array {
  return encoder.encode(
    `event: message\nid: ${event.sequence}\ndata: ${JSON.stringify(eventView(event))}\n\n`,
  );
}

export function connectedFrame(latestSequence: number): Uint8Array {
  return encoder.encode(
    `event: connected\ndata: ${JSON.stringify({ message: "Connected to event stream", latestSequence })}\n\n`,
  );
}

export function errorFrame(message: string): Uint8Array {
  return encoder.encode(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
}

export interface ResyncInfo {
  lastSequence: number;
  earliestSequence: number;
  latestSequence: number;
}

/**
 * The synthetic RESYNC_REQUIRED event: the client's position fell out of the buffer, so it must
 * refetch state over REST. Its id is the position the stream continues from, so a reconnect
 * right after it does not ask for the same impossible replay again.
 */
export function resyncFrame(info: ResyncInfo, continueFrom: number, now: number): Uint8Array {
  const data = { type: "RESYNC_REQUIRED", ...info, timestamp: new Date(now).toISOString() };
  return encoder.encode(`event: message\nid: ${continueFrom}\ndata: ${JSON.stringify(data)}\n\n`);
}

export const KEEP_ALIVE_FRAME = encoder.encode(": keep-alive\n\n");
