import { createInterface } from "node:readline";
import type { Api } from "../client/api.ts";
import { followSse, type SseMessage } from "../client/sse.ts";
import type { Instance } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { ApiError, CliError, EXIT } from "../errors.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age, parseInteger } from "../parse.ts";

const ID_ARG = { type: "positional", required: true, description: "instance id, e.g. lobby-1" } as const;

const columns: Column<Instance>[] = [
  { header: "id", value: (i) => i.id },
  { header: "group", value: (i) => i.group },
  { header: "state", value: (i) => i.state, color: (t, s) => s.state(t) },
  { header: "node", value: (i) => i.nodeId },
  { header: "port", value: (i) => i.port },
  { header: "players", value: (i) => i.playerCount },
  { header: "age", value: (i) => age(i.startedAt ?? null) },
  { header: "started", value: (i) => i.startedAt, wide: true },
];

/** A console line arrives as `{line, timestampMs}` JSON or as plain text, depending on the stream. */
export function consoleText(data: string): string | undefined {
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed === "string") return parsed;
    if (parsed && typeof parsed === "object") {
      const p = parsed as { line?: unknown; text?: unknown; message?: unknown; type?: unknown };
      const text = p.line ?? p.text ?? p.message;
      if (typeof text === "string") return text;
    }
  } catch {
    // not JSON: the line is shown as it came
    return data;
  }
  return undefined;
}

/** History comes back as `{data:[…]}`, `{lines:[…]}` or a bare array of strings or line objects. */
export function historyLines(body: unknown): string[] {
  const items = Array.isArray(body)
    ? body
    : ((body as { data?: unknown[]; lines?: unknown[] } | null)?.data ??
      (body as { lines?: unknown[] } | null)?.lines ??
      []);
  return items.flatMap((item) => {
    const text = typeof item === "string" ? item : consoleText(JSON.stringify(item));
    return text === undefined ? [] : [text];
  });
}

/** Streams an instance's console (SSE with a fresh single-use ticket per connection). */
async function streamConsole(
  api: Api,
  id: string,
  onLine: (line: string) => void,
  note: (t: string) => void,
) {
  const path = api.instances.consolePath(id);
  await followSse({
    open: async (lastEventId) => {
      const ticket = await api.events.ticket();
      return api.http.send("GET", path, {
        query: { ticket },
        headers: { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
        stream: true,
        auth: false,
      });
    },
    onMessage: (message: SseMessage) => {
      if (message.event !== "message" && message.event !== "console") return;
      const text = consoleText(message.data);
      if (text !== undefined) onLine(text);
      return undefined;
    },
    onReconnect: (delay, reason) =>
      note(`console stream interrupted (${reason}); reconnecting in ${delay} ms`),
  });
}

const list = leaf({
  name: "list",
  description: "List instances, optionally of one group, node or state",
  examples: [
    "prexorctl instance list",
    "prexorctl instance list --group lobby --state RUNNING",
    "prexorctl instance list -o json | jq -r '.[] | select(.state==\"CRASHED\") | .id'",
  ],
  args: {
    group: { type: "string", description: "only this group" },
    node: { type: "string", description: "only this node" },
    state: { type: "string", description: "only this state (RUNNING, STARTING, …)" },
  },
  async run({ args, api, out }) {
    const rows = await api().instances.list({
      group: args.group,
      node: args.node,
      state: args.state?.toUpperCase(),
    });
    printList(out, rows, columns, { what: "instance", name: (i) => i.id });
  },
});

const info = leaf({
  name: "info",
  description: "Show one instance",
  examples: ["prexorctl instance info lobby-1", "prexorctl instance info lobby-1 -o json"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().instances.get(args.id));
  },
});

const stop = leaf({
  name: "stop",
  description: "Stop an instance gracefully (--force: kill it)",
  examples: ["prexorctl instance stop lobby-2", "prexorctl instance stop lobby-2 --force"],
  args: { id: ID_ARG, force: { type: "boolean", description: "SIGKILL instead of a graceful stop" } },
  async run({ args, api, out }) {
    const result = await api().instances.stop(args.id, args.force === true);
    printDone(out, `instance "${args.id}" ${args.force ? "killed" : "stopping"}`, result);
  },
});

const exec = leaf({
  name: "exec",
  description: "Run one console command on an instance",
  examples: [
    "prexorctl instance exec lobby-1 -- say Restart in 5 minutes",
    'prexorctl instance exec lobby-1 "whitelist add Steve"',
  ],
  args: {
    id: ID_ARG,
    command: { type: "positional", required: false, description: "the command (or everything after --)" },
  },
  async run({ args, rawArgs, api, out }) {
    // After `--` the words are the command (citty would also hand the first one over as COMMAND).
    const dashes = rawArgs.indexOf("--");
    const command = (dashes >= 0 ? rawArgs.slice(dashes + 1).join(" ") : (args.command ?? "")).trim();
    if (command === "") throw new CliError("no command given", EXIT.USAGE);
    const result = await api().instances.command(args.id, command);
    printDone(out, `sent to ${args.id}: ${command}`, result ?? { status: "SENT", command });
  },
});

const logs = leaf({
  name: "logs",
  description: "Print an instance's recent console output (-f: keep following it)",
  examples: ["prexorctl instance logs lobby-1 --tail 100", "prexorctl instance logs lobby-1 -f"],
  args: {
    id: ID_ARG,
    tail: { type: "string", description: "how many recent lines (default 200)" },
    follow: { type: "boolean", alias: "f", description: "keep streaming new lines" },
  },
  async run({ args, api, out }) {
    const tail = parseInteger(args.tail, "--tail", { min: 1, max: 5000 }) ?? 200;
    // The console stream replays buffered history on connect, so following needs no history call.
    if (args.follow) return streamConsole(api(), args.id, out.print, out.note);
    for (const line of historyLines(await api().instances.history(args.id, tail))) out.print(line);
  },
});

const consoleCmd = leaf({
  name: "console",
  description: "Attach to an instance's console: output streams, each line you type is sent",
  examples: ["prexorctl instance console lobby-1", "printf 'list\\n' | prexorctl instance console lobby-1"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    const a = api();
    await a.instances.get(args.id); // fail fast (exit 4) on a typo, before attaching
    const input = createInterface({ input: process.stdin, terminal: false });
    input.on("line", (line) => {
      if (line.trim() === "") return;
      a.instances.command(args.id, line).catch((err: unknown) => {
        out.note(
          `error: ${err instanceof ApiError ? `${err.code}: ${err.message}` : (err as Error).message}`,
        );
      });
    });
    if (process.stdin.isTTY) out.note(`attached to ${args.id}; type commands, Ctrl-C to detach`);
    await streamConsole(a, args.id, out.print, out.note);
  },
});

export const instanceCommand = branch({
  name: "instance",
  description: "Inspect and control running instances (servers and proxies)",
  examples: ["prexorctl instance list --group lobby", "prexorctl instance console lobby-1"],
  subCommands: { list, info, stop, exec, console: consoleCmd, logs },
});
