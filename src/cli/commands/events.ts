import { stringify } from "yaml";
import { followSse, type SseMessage } from "../client/sse.ts";
import { leaf } from "../command-kit.ts";
import type { Output } from "../output/render.ts";
import { parseInteger, parseList } from "../parse.ts";

interface StreamEvent {
  type?: string;
  sequence?: number;
  timestamp?: string;
  [key: string]: unknown;
}

/** `12:01:05  INSTANCE_STATE_CHANGED  instanceId=lobby-1 newState=RUNNING`: one event, one line. */
export function eventLine(event: StreamEvent, out: Output): string {
  const { type, sequence: _s, timestamp, payload, ...rest } = event;
  const fields = payload && typeof payload === "object" ? { ...(payload as object), ...rest } : rest;
  const time = typeof timestamp === "string" ? timestamp : new Date().toISOString();
  const summary = Object.entries(fields)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  return `${out.style.dim(time)}  ${out.style.bold(type ?? "?")}  ${summary}`;
}

export const eventsCommand = leaf({
  name: "events",
  description: "Follow the controller's event stream (reconnects and resumes where it left off)",
  examples: [
    "prexorctl events",
    "prexorctl events --type INSTANCE_STATE_CHANGED,INSTANCE_CRASHED",
    "prexorctl events --since 0 --count 20 -o json",
  ],
  args: {
    type: { type: "string", description: "comma-separated event types to show (default: all)" },
    since: { type: "string", description: "replay buffered events after this sequence number first" },
    count: { type: "string", description: "exit after this many events" },
  },
  async run({ args, api, out }) {
    const a = api();
    const types = new Set((parseList(args.type) ?? []).map((t) => t.toUpperCase()));
    const since = parseInteger(args.since, "--since", { min: 0 });
    const limit = parseInteger(args.count, "--count", { min: 1 });
    let shown = 0;
    const show = (message: SseMessage): boolean | undefined => {
      if (message.event === "connected") return undefined;
      let event: StreamEvent;
      try {
        event = JSON.parse(message.data) as StreamEvent;
      } catch {
        // a frame that is not JSON is not an event of ours; skip it rather than end the stream
        return undefined;
      }
      if (event.type === "RESYNC_REQUIRED")
        out.note(
          "warning: events were missed (the controller's replay buffer moved on); refetch state with list commands",
        );
      if (types.size > 0 && !types.has(String(event.type))) return undefined;
      // JSON is one event per line (NDJSON), so `| jq` and `| while read` work as it streams.
      if (out.format === "json") out.print(JSON.stringify(event));
      else if (out.format === "yaml") out.print(`---\n${stringify(event).trimEnd()}`);
      else out.print(eventLine(event, out));
      shown++;
      return limit === undefined || shown < limit;
    };
    await followSse({
      lastEventId: since === undefined ? undefined : String(since),
      // Tickets are single-use: every (re)connect trades the bearer token for a fresh one.
      open: async (lastEventId) => {
        const ticket = await a.events.ticket();
        return a.http.send("GET", a.events.streamPath, {
          query: { ticket },
          headers: { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
          stream: true,
          auth: false,
        });
      },
      onMessage: show,
      onReconnect: (delay, reason) =>
        out.note(`event stream interrupted (${reason}); reconnecting in ${delay} ms`),
    });
  },
});
