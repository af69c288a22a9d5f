import { systemClock } from "../../core/clock.ts";
import type { Api, BackupActivity, BackupSummary } from "../client/api.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { formatBytes } from "../output/progress.ts";
import { isMachine, type Output, printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { confirm } from "../prompt.ts";

const ID_ARG = { type: "positional", required: true, description: "backup id (yyyyMMdd-HHmmss)" } as const;

const columns: Column<BackupSummary>[] = [
  { header: "id", value: (b) => b.id },
  { header: "scope", value: (b) => b.scope },
  { header: "documents", value: (b) => String(b.documentCount) },
  { header: "size", value: (b) => formatBytes(b.sizeBytes) },
  { header: "files", value: (b) => String(b.fileCount), wide: true },
  { header: "created", value: (b) => new Date(b.createdAt).toISOString() },
];

/** One progress line from the controller's own counters (documents and bytes so far). */
export function activityLine(a: BackupActivity, elapsedMs: number): string {
  const docs =
    a.totalDocuments !== null ? `${a.documents}/${a.totalDocuments} documents` : `${a.documents} documents`;
  const ratio = a.totalDocuments ? Math.min(1, a.documents / a.totalDocuments) : null;
  const bar = ratio === null ? "" : `[${"=".repeat(Math.round(ratio * 30)).padEnd(30)}] `;
  return `${bar}${a.phase.padEnd(12)} ${docs}  ${formatBytes(a.bytes)}  ${(elapsedMs / 1000).toFixed(1)} s`;
}

/**
 * Runs a long request while polling the controller's progress and redrawing one line on a TTY
 * (stderr, so `-o json` stays clean). Without a TTY nothing is drawn.
 */
async function withProgress<T>(api: Api, out: Output, work: Promise<T>): Promise<T> {
  const tty = Boolean(process.stderr.isTTY) && !isMachine(out);
  if (!tty) return work;
  const started = systemClock.now();
  let finished = false;
  void work.finally(() => {
    finished = true;
  });
  while (!finished) {
    // progress is cosmetic: a failed poll skips one line and the next poll tries again
    const a = await api.backups.progress().catch(() => null);
    if (a && !finished) process.stderr.write(`\r${activityLine(a, systemClock.now() - started)}\u001b[K`);
    // the wait only paces the poll; `work` itself is awaited (and its error reported) by the caller
    await Promise.race([work.catch(() => undefined), systemClock.sleep(250)]);
  }
  process.stderr.write("\r\u001b[K");
  return work;
}

const create = leaf({
  name: "create",
  description:
    "Take a backup bundle on the controller (mongo: durable store only; full: + coordination + files)",
  examples: ["prexorctl backup create", "prexorctl backup create --scope mongo"],
  args: { scope: { type: "string", description: "mongo | full", default: "full" } },
  async run({ args, api, out }) {
    if (args.scope !== "mongo" && args.scope !== "full")
      throw new CliError(`--scope must be mongo or full (got "${args.scope}")`, EXIT.USAGE);
    const m = await withProgress(api(), out, api().backups.create(args.scope));
    printDone(
      out,
      `backup ${m.id} written: ${m.documentCount} documents, ${m.files.length} files, ${formatBytes(m.sizeBytes)}`,
      m,
    );
  },
});

const list = leaf({
  name: "list",
  description: "List backup bundles, newest first",
  examples: ["prexorctl backup list"],
  async run({ api, out }) {
    printList(out, await api().backups.list(), columns, { what: "backup", name: (b) => b.id });
  },
});

const verify = leaf({
  name: "verify",
  description: "Recompute every file's SHA-256 on the controller (exit 1 when the bundle is damaged)",
  examples: ["prexorctl backup verify 20261202-130000"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    const r = await api().backups.verify(args.id);
    if (isMachine(out)) printItem(out, r);
    else if (r.valid) out.print(`backup ${r.id} is valid`);
    else for (const p of r.problems) out.note(`${r.id}: ${p.file}: ${p.reason}`);
    return r.valid ? EXIT.OK : EXIT.ERROR;
  },
});

const prune = leaf({
  name: "prune",
  description: "Keep the newest N bundles (default backup.retentionCount) and delete the rest",
  examples: ["prexorctl backup prune --keep 5"],
  args: { keep: { type: "string", description: "how many to keep" } },
  async run({ args, api, out }) {
    const keep = args.keep === undefined ? undefined : Number(args.keep);
    if (keep !== undefined && (!Number.isInteger(keep) || keep < 0))
      throw new CliError(`--keep must be a whole number ≥ 0 (got "${args.keep}")`, EXIT.USAGE);
    const r = await api().backups.prune(keep);
    printDone(out, `kept ${r.keep.length}, deleted ${r.remove.length}`, r);
  },
});

const del = leaf({
  name: "delete",
  description: "Delete a backup bundle",
  examples: ["prexorctl backup delete 20261202-130000"],
  args: { id: ID_ARG, yes: { type: "boolean", alias: "y", description: "do not ask" } },
  async run({ args, api, out }) {
    await confirm(`Delete backup ${args.id}?`, Boolean(args.yes));
    printDone(out, `backup ${args.id} deleted`, await api().backups.delete(args.id));
  },
});

export const backupCommand = branch({
  name: "backup",
  description: "Backup bundles on the controller (shipping them off-host is yours)",
  examples: [
    "prexorctl backup create",
    "prexorctl backup list",
    "prexorctl restore 20261202-130000 --dry-run",
  ],
  subCommands: { create, list, verify, prune, delete: del },
});

export const restoreCommand = leaf({
  name: "restore",
  description: "Restore a backup bundle (replaces users: everybody logs in again)",
  examples: [
    "prexorctl restore 20261202-130000 --dry-run",
    "prexorctl restore 20261202-130000 -y",
    "prexorctl restore 20261202-130000 --no-filesystem",
  ],
  args: {
    id: ID_ARG,
    "dry-run": { type: "boolean", description: "say what would change, change nothing" },
    filesystem: {
      type: "boolean",
      default: true,
      description: "restore templates, artifacts, cluster secret",
    },
    datastores: { type: "boolean", default: true, description: "restore the durable store and coordination" },
    yes: { type: "boolean", alias: "y", description: "do not ask for confirmation" },
  },
  async run({ args, api, out }) {
    const body = {
      id: args.id,
      dryRun: Boolean(args["dry-run"]),
      filesystem: Boolean(args.filesystem),
      datastores: Boolean(args.datastores),
    };
    if (!body.dryRun) {
      await confirm(
        `Replace the cluster's state with backup ${args.id}? Every user must log in again.`,
        Boolean(args.yes),
      );
    }
    const r = await withProgress(api(), out, api().backups.restore(body));
    if (isMachine(out)) {
      printItem(out, r);
      return;
    }
    for (const c of r.datastores.collections)
      out.print(`  ${c.action.padEnd(7)} ${c.name}: ${c.currentDocuments} → ${c.documents}`);
    for (const n of r.notes) out.note(`note: ${n}`);
    out.print(
      r.dryRun
        ? `dry run: nothing changed (${r.filesystem.entryCount} files would be placed)`
        : `restored ${r.bundle}: ${r.datastores.documents} documents, ${r.filesystem.entryCount} files; log in again`,
    );
  },
});
