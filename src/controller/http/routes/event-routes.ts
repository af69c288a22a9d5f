import { t as T } from "elysia";
import type { Coordination } from "../../../coord/port.ts";
import type { Logger } from "../../../log/logger.ts";
import { decodeStored, eventView } from "../../events/event-record.ts";
import { STREAM_EXCLUDED } from "../../events/event-types.ts";
import { matchesFilter } from "../../events/sse-client.ts";
import type { SseHub } from "../../events/sse-hub.ts";
import { openEventStream, parseFilter } from "../../events/sse-stream.ts";
import type { SseTickets } from "../../events/sse-tickets.ts";
import { listEnvelope, pageParams } from "../paging.ts";
import { Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export interface EventRouteDeps {
  hub: SseHub;
  tickets: SseTickets;
  coord: Coordination;
  log: Logger;
  replayBufferSize: number;
  /** lifts the HTTP server's idle timeout for one long-lived response */
  keepOpen(request: Request): void;
}

const TypeList = T.String({
  maxLength: 2048,
  pattern: "^[A-Za-z0-9_:.,-]*$",
  description: "comma-separated event types, e.g. GROUP_CREATED,GROUP_DELETED",
});
const GroupName = T.String({ minLength: 1, maxLength: 64 });

export function eventRoutes(table: RouteTable, deps: EventRouteDeps): void {
  table
    .add({
      method: "POST",
      path: "/api/v1/events/ticket",
      response: T.Object({ ticket: T.String() }),
      access: "events.stream",
      tag: "events",
      summary: "Trade the bearer token for a single-use, 30-second SSE ticket",
      handler: async ({ caller }) => ({
        ticket: await deps.tickets.issue({ username: caller.username, role: caller.role }),
      }),
    })
    .add({
      method: "GET",
      path: "/api/v1/events/stream",
      rawType: "text/event-stream",
      access: "ticket",
      tag: "events",
      summary:
        "Server-sent events: connected, then every event in sequence order; resumes from ?lastSequence or Last-Event-ID",
      raw: true,
      query: T.Object({
        ticket: T.Optional(T.String({ maxLength: 128 })),
        lastSequence: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        types: T.Optional(TypeList),
        group: T.Optional(GroupName),
      }),
      handler: async ({ query, request }) => {
        const response = await openEventStream(deps, {
          ticket: query.ticket,
          lastSequence: query.lastSequence,
          lastEventId: request.headers.get("last-event-id"),
          types: query.types,
          group: query.group,
          signal: request.signal,
        });
        deps.keepOpen(request);
        return response;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/events/recent",
      response: Paged(T.Object({ type: T.String(), sequence: T.Integer({ minimum: 0 }) })),
      access: "events.view",
      tag: "events",
      summary: "Events still in the replay buffer, newest first",
      query: T.Object(
        {
          page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 50 })),
          types: T.Optional(TypeList),
          group: T.Optional(GroupName),
        },
        { additionalProperties: false },
      ),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const filter = parseFilter(query.types, query.group);
        // The buffer is bounded (2048 by default), so one read of all of it is cheap.
        const { events } = await deps.coord.eventsAfter(0, deps.replayBufferSize);
        const matching = [];
        for (let i = events.length - 1; i >= 0; i--) {
          const entry = events[i]!;
          const event = decodeStored(entry.seq, entry.payload);
          if (event && !STREAM_EXCLUDED.has(event.type) && matchesFilter(filter, event)) matching.push(event);
        }
        const slice = matching.slice((page - 1) * pageSize, page * pageSize);
        return listEnvelope(slice.map(eventView), page, pageSize, matching.length);
      },
    });
}
