import type { BusEvent, EventType } from "./event-types.ts";

/** An event as kept in the replay buffer: the buffer assigns the sequence, so it is not stored. */
type StoredEvent = Omit<BusEvent, "sequence">;

export function encodeStored(event: StoredEvent): string {
  const { type, timestamp, origin, group, payload } = event;
  return JSON.stringify(
    group === undefined ? { type, timestamp, origin, payload } : { type, timestamp, origin, group, payload },
  );
}

/**
 * Reads a buffered entry back; null when it is not ours (another writer, a newer format), so one
 * bad entry cannot stop the stream for everybody.
 */
export function decodeStored(sequence: number, text: string): BusEvent | null {
  try {
    const raw = JSON.parse(text) as Partial<StoredEvent>;
    if (typeof raw.type !== "string" || typeof raw.payload !== "object" || raw.payload === null) return null;
    return {
      type: raw.type as EventType,
      sequence,
      timestamp: typeof raw.timestamp === "string" ? raw.timestamp : new Date(0).toISOString(),
      origin: typeof raw.origin === "string" ? raw.origin : "unknown",
      ...(typeof raw.group === "string" ? { group: raw.group } : {}),
      payload: raw.payload,
    } as BusEvent;
  } catch {
    // an unreadable replay entry is skipped; the caller treats null as absent
    return null;
  }
}

/**
 * The JSON clients see (SSE data, the recent-events list): the event's own fields plus `type`
 * and `sequence`; an event that carries its own `timestamp` field keeps it.
 */
export function eventView(event: BusEvent): Record<string, unknown> {
  return { timestamp: event.timestamp, ...event.payload, type: event.type, sequence: event.sequence };
}
