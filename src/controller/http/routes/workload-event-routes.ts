import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import { type CustomEventPublisher, isReservedEventType } from "../../events/event-types.ts";
import type { SseTickets } from "../../events/sse-tickets.ts";
import type { WorkloadAuth } from "../../workload/workload-auth.ts";
import { StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export interface WorkloadEventDeps {
  auth: WorkloadAuth;
  events: CustomEventPublisher;
  /** absent when the event system is not running: tickets are then 503 */
  tickets?: SseTickets;
}

/** Lower case on purpose: operators cannot create such a role, so a ticket never gains permissions. */
export const WORKLOAD_TICKET_ROLE = "workload";
export const MAX_CUSTOM_EVENT_BYTES = 16 * 1024;

const CustomEvent = T.Object(
  {
    type: T.String({
      pattern: "^[A-Z][A-Z0-9_]{0,63}(:[A-Z][A-Z0-9_]{0,63})?$",
      description: "SCREAMING_SNAKE, optionally MODULE:ACTION; built-in types are refused",
    }),
    data: T.Optional(T.Record(T.String({ maxLength: 128 }), T.Unknown())),
  },
  { additionalProperties: false },
);

/** SSE tickets and custom events for workloads, under `/api/plugin` or `/api/proxy`. */
export function workloadEventRoutes(table: RouteTable, prefix: string, deps: WorkloadEventDeps): void {
  const { auth } = deps;
  const tag = prefix.slice(5);
  table
    .add({
      method: "POST",
      path: `${prefix}/events/ticket`,
      response: T.Object({ ticket: T.String() }),
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag,
      summary: "A single-use, 30-second ticket for the general event stream, issued to this instance",
      handler: async ({ request }) => {
        if (!deps.tickets) throw new AppError("SERVICE_UNAVAILABLE", "the event system is not running");
        const { instanceId } = auth.identity(request);
        try {
          return {
            ticket: await deps.tickets.issue({
              username: `instance:${instanceId}`,
              role: WORKLOAD_TICKET_ROLE,
            }),
          };
        } catch (err) {
          throw new AppError(
            "SERVICE_UNAVAILABLE",
            "the event system cannot issue tickets right now",
            undefined,
            {
              cause: err,
            },
          );
        }
      },
    })
    .add({
      method: "POST",
      path: `${prefix}/events`,
      response: StatusAnswer("published"),
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag,
      summary: "Publish a custom event on the controller's bus (source = this instance)",
      body: CustomEvent,
      handler: async ({ request, body }) => {
        if (isReservedEventType(body.type)) {
          throw new AppError("INVALID_ARGUMENT", `type: "${body.type}" is a built-in event type`);
        }
        const data = body.data ?? {};
        if (Buffer.byteLength(JSON.stringify(data)) > MAX_CUSTOM_EVENT_BYTES) {
          throw new AppError("PAYLOAD_TOO_LARGE", `data: at most ${MAX_CUSTOM_EVENT_BYTES} bytes of JSON`);
        }
        const { instanceId, group } = auth.identity(request);
        await deps.events.publishCustom({ type: body.type, source: instanceId, group, payload: data });
        return { status: "published" };
      },
    });
}
