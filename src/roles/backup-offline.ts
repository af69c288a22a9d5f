import { resolve } from "node:path";
import { defineCommand } from "citty";
import { type ControllerConfig, loadControllerConfig } from "../config/controller-config.ts";
import { BackupService } from "../controller/backup/backup-service.ts";
import type { BackupScope } from "../controller/backup/bundle-format.ts";
import { openCoordination, openStore } from "../controller/open-state.ts";
import type { Coordination } from "../coord/port.ts";
import { AppError } from "../core/errors.ts";
import type { DurableStore } from "../store/port.ts";
import { report, UsageError } from "./strict-run.ts";

/** The stores of an install root, opened directly (no controller): what DR needs when it will not start. */
export async function openOffline(
  rootArg: string,
  configArg: string | undefined,
): Promise<{
  root: string;
  config: ControllerConfig;
  store: DurableStore;
  coord: Coordination | null;
  close(): Promise<void>;
}> {
  const root = resolve(rootArg);
  const file = configArg ? resolve(configArg) : resolve(root, "config/controller.yml");
  const config = loadControllerConfig(file, { allowMissing: !configArg });
  // The embedded store's exclusive lock refuses this while a controller runs on it.
  const store = await openStore(root, config);
  // In-memory coordination dies with its controller: offline there is nothing of it to carry.
  const coord = config.redis
    ? await openCoordination(config).catch(async (err) => {
        await store.close();
        throw err;
      })
    : null;
  return {
    root,
    config,
    store,
    coord,
    close: async () => {
      await coord?.close();
      await store.close();
    },
  };
}

export function offlineService(
  s: Awaited<ReturnType<typeof openOffline>>,
  backupDir?: string,
): BackupService {
  return new BackupService({
    store: s.store,
    coord: s.coord,
    root: s.root,
    backupDir: backupDir ? resolve(backupDir) : resolve(s.root, s.config.backup.directory),
    retentionCount: s.config.backup.retentionCount,
    holder: "offline",
    gate: null,
  });
}

const common = {
  root: { type: "string", description: "install root", default: "." },
  config: { type: "string", description: "config file (default <root>/config/controller.yml)" },
  dir: { type: "string", description: "backup directory (default backup.directory under the root)" },
} as const;

async function withOffline(
  args: { root: string; config?: string; dir?: string },
  fn: (svc: BackupService) => Promise<number>,
) {
  let state: Awaited<ReturnType<typeof openOffline>> | undefined;
  try {
    state = await openOffline(args.root, args.config);
    return await fn(offlineService(state, args.dir));
  } catch (err) {
    return report(err);
  } finally {
    await state?.close();
  }
}

const create = defineCommand({
  meta: {
    name: "create",
    description: "Write a bundle from the stores directly (no controller may run on an embedded store)",
  },
  args: { ...common, scope: { type: "string", description: "mongo | full", default: "full" } },
  run: ({ args }) => {
    if (args.scope !== "mongo" && args.scope !== "full")
      throw new UsageError(`--scope must be mongo or full, got "${args.scope}"`);
    return withOffline(args, async (svc) => {
      const started = performance.now();
      const m = await svc.create(args.scope as BackupScope);
      const s = (performance.now() - started) / 1000;
      console.log(
        `${m.id}: ${m.documentCount} documents, ${m.files.length} files, ${(m.sizeBytes / 1048576).toFixed(1)} MiB in ${s.toFixed(2)} s`,
      );
      return 0;
    });
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List complete bundles" },
  args: { ...common },
  run: ({ args }) =>
    withOffline(args, async (svc) => {
      for (const b of svc.list())
        console.log(`${b.id}  ${b.scope.padEnd(5)}  ${b.documentCount} docs  ${b.sizeBytes} bytes`);
      return 0;
    }),
});

const verify = defineCommand({
  meta: {
    name: "verify",
    description: "Recompute every file's SHA-256 against the manifest (exit 1 when invalid)",
  },
  args: { id: { type: "positional", required: true, description: "bundle id" }, ...common },
  run: ({ args }) =>
    withOffline(args, async (svc) => {
      const r = await svc.verify(String(args.id));
      if (r.valid) {
        console.log(`${r.id}: valid (${r.manifest?.files.length ?? 0} files)`);
        return 0;
      }
      for (const p of r.problems) console.error(`${r.id}: ${p.file}: ${p.reason}`);
      return 1;
    }),
});

const restore = defineCommand({
  meta: { name: "restore", description: "Restore a bundle into the stores directly" },
  args: {
    id: { type: "positional", required: true, description: "bundle id" },
    ...common,
    "dry-run": { type: "boolean", description: "say what would change, change nothing" },
    filesystem: {
      type: "boolean",
      default: true,
      description: "restore templates, artifacts, cluster secret",
    },
    datastores: { type: "boolean", default: true, description: "restore the durable store and coordination" },
    yes: { type: "boolean", alias: "y", description: "do not ask (required without a TTY)" },
  },
  run: ({ args }) =>
    withOffline(args, async (svc) => {
      const options = {
        dryRun: Boolean(args["dry-run"]),
        filesystem: args.filesystem,
        datastores: args.datastores,
      };
      const plan = await svc.restore(String(args.id), { ...options, dryRun: true });
      for (const c of plan.datastores.collections)
        console.log(`  ${c.action.padEnd(7)} ${c.name}: ${c.currentDocuments} → ${c.documents}`);
      console.log(`  files: ${plan.filesystem.entryCount}`);
      for (const n of plan.notes) console.log(`  note: ${n}`);
      if (options.dryRun) return 0;
      if (!args.yes) {
        if (!process.stdin.isTTY)
          throw new AppError("INVALID_ARGUMENT", "restore replaces the stores: pass --yes (or --dry-run)");
        const answer = prompt(`Replace the stores of ${resolve(args.root)} with bundle ${args.id}? [y/N]`);
        if (!/^y(es)?$/i.test(answer ?? "")) {
          console.error("aborted");
          return 1;
        }
      }
      const r = await svc.restore(String(args.id), options);
      console.log(
        `restored ${r.bundle}: ${r.datastores.documents} documents, ${r.filesystem.entryCount} files; every user must log in again`,
      );
      return 0;
    }),
});

export const backupCommand = defineCommand({
  meta: {
    name: "backup",
    description: "Backups on the stores directly, for when the controller is not running",
  },
  subCommands: { create, list, verify, restore },
});
