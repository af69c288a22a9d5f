import type { Crash } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { isMachine, printData, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age, humanDuration, parseInstant, parseInteger } from "../parse.ts";

const columns: Column<Crash>[] = [
  { header: "id", value: (c) => c.id },
  { header: "instance", value: (c) => c.instanceId },
  { header: "group", value: (c) => c.group },
  { header: "node", value: (c) => c.node },
  { header: "class", value: (c) => c.classification, color: (t, s) => s.red(t) },
  { header: "exit", value: (c) => c.exitCode },
  { header: "age", value: (c) => age(c.crashedAt ?? null) },
  { header: "cause", value: (c) => c.causeSummary, wide: true },
];

const list = leaf({
  name: "list",
  description: "List recent crashes, newest first",
  examples: ["prexorctl crash list", "prexorctl crash list --group lobby --since 24h"],
  args: {
    group: { type: "string", description: "only this group" },
    node: { type: "string", description: "only this node" },
    since: { type: "string", description: "only after this time (ISO) or this long ago (24h)" },
    limit: { type: "string", description: "at most this many (default 50)" },
  },
  async run({ args, api, out }) {
    const since = parseInstant(args.since, "--since");
    const page = await api().crashes.list({
      group: args.group,
      node: args.node,
      pageSize: parseInteger(args.limit, "--limit", { min: 1, max: 500 }) ?? 50,
    });
    // The API has no time filter; the page is newest first, so filtering it keeps the newest.
    const rows = since ? page.data.filter((c) => !c.crashedAt || c.crashedAt >= since) : page.data;
    printList(out, rows, columns, { what: "crash", plural: "crashes", name: (c) => c.id });
  },
});

const info = leaf({
  name: "info",
  description: "Show one crash with the tail of its log",
  examples: ["prexorctl crash info 6650c1f2", "prexorctl crash info 6650c1f2 -o json"],
  args: { id: { type: "positional", required: true, description: "crash id" } },
  async run({ args, api, out }) {
    const crash = await api().crashes.get(args.id);
    if (isMachine(out)) return printData(out, crash);
    const rows: Array<[string, unknown]> = [
      ["Crash", crash.id],
      ["Instance", crash.instanceId],
      ["Group", crash.group],
      ["Node", crash.node],
      ["When", crash.crashedAt],
      ["Class", crash.classification],
      ["Exit", crash.signal ? `${crash.exitCode ?? "-"} (${crash.signal})` : crash.exitCode],
      ["Uptime", typeof crash.uptimeMs === "number" ? humanDuration(crash.uptimeMs) : undefined],
      ["Cause", crash.causeSummary],
    ];
    for (const [k, v] of rows) out.print(`${`${k}:`.padEnd(11)}${v ?? "-"}`);
    if (crash.logTail?.length) {
      out.print("\nLog tail:");
      for (const line of crash.logTail) out.print(`  ${line}`);
    }
  },
});

export const crashCommand = branch({
  name: "crash",
  description: "Inspect instance crashes",
  examples: ["prexorctl crash list --since 1h", "prexorctl crash info 6650c1f2"],
  subCommands: { list, info },
});
