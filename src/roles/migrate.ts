import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { USERS } from "../controller/auth/user-service.ts";
import { BackupService } from "../controller/backup/backup-service.ts";
import { GROUPS } from "../controller/groups/group-service.ts";
import { clusterSecretFile } from "../controller/pki/cluster-secret.ts";
import type { Coordination } from "../coord/port.ts";
import { ValkeyCoordination } from "../coord/valkey/valkey-coordination.ts";
import { AppError } from "../core/errors.ts";
import { MongoStore } from "../store/mongo/mongo-store.ts";
import type { DurableStore } from "../store/port.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import { openOffline } from "./backup-offline.ts";
import { report, UsageError } from "./strict-run.ts";

interface Side {
  root: string;
  store: DurableStore;
  coord: Coordination | null;
  close(): Promise<void>;
}

async function production(
  mongo: string,
  database: string,
  redis: string | undefined,
  root: string,
): Promise<Side> {
  const store = await MongoStore.connect({ uri: mongo, database });
  const coord = redis
    ? await ValkeyCoordination.connect({ uri: redis }).catch(async (err) => {
        await store.close();
        throw err;
      })
    : null;
  return {
    root,
    store,
    coord,
    close: async () => {
      await coord?.close();
      await store.close();
    },
  };
}

/**
 * One command from the embedded store to MongoDB + Valkey (or back, for a lab copy): a full bundle
 * of the source, verified, restored into the target. The bundle stays in the source's backup
 * directory as the record of what was moved. The cluster CA travels sealed in the store and its
 * sealing secret with the files, so daemons reconnect without re-enrolling.
 */
export const migrateCommand = defineCommand({
  meta: {
    name: "migrate",
    description: "Move a cluster's state between the embedded store and MongoDB + Valkey",
  },
  args: {
    "from-root": { type: "string", description: "embedded install root to read (embedded → production)" },
    "to-mongo": { type: "string", description: "target MongoDB URI" },
    "to-redis": { type: "string", description: "target Valkey/Redis URI" },
    "to-database": { type: "string", default: "prexorcloud", description: "target database" },
    "from-mongo": { type: "string", description: "source MongoDB URI (production → embedded)" },
    "from-redis": { type: "string", description: "source Valkey/Redis URI" },
    "from-database": { type: "string", default: "prexorcloud", description: "source database" },
    "to-root": {
      type: "string",
      description: "install root the target's files go to (and, production → embedded, its store)",
    },
    "files-root": {
      type: "string",
      description: "production → embedded: the production controller's install root (templates)",
    },
    force: { type: "boolean", description: "replace a target that already holds data" },
  },
  async run({ args }) {
    const toProduction = Boolean(args["from-root"]);
    if (toProduction === Boolean(args["from-mongo"])) {
      throw new UsageError(
        "give either --from-root (with --to-mongo/--to-redis) or --from-mongo (with --to-root)",
      );
    }
    if (toProduction && !args["to-mongo"]) throw new UsageError("--to-mongo is required with --from-root");
    if (!toProduction && !args["to-root"]) throw new UsageError("--to-root is required with --from-mongo");
    let source: Side | undefined;
    let target: Side | undefined;
    try {
      if (toProduction) {
        const s = await openOffline(String(args["from-root"]), undefined);
        source = { root: s.root, store: s.store, coord: s.coord, close: s.close };
        const toRoot = resolve(args["to-root"] ?? join(s.root, "migrated-files"));
        target = await production(String(args["to-mongo"]), args["to-database"], args["to-redis"], toRoot);
      } else {
        const filesRoot = resolve(args["files-root"] ?? ".");
        source = await production(
          String(args["from-mongo"]),
          args["from-database"],
          args["from-redis"],
          filesRoot,
        );
        const toRoot = resolve(String(args["to-root"]));
        mkdirSync(join(toRoot, "data"), { recursive: true, mode: 0o700 });
        const store = SqliteStore.open({ file: join(toRoot, "data", "prexor.db") });
        target = { root: toRoot, store, coord: null, close: () => store.close() };
      }
      const held =
        (await target.store.collection(USERS).count()) + (await target.store.collection(GROUPS).count());
      if (held > 0 && !args.force) {
        throw new AppError(
          "CONFLICT",
          `the target already holds data (${held} users/groups); pass --force to replace it`,
        );
      }
      const backupDir = toProduction ? join(source.root, "backups") : join(target.root, "backups");
      const from = new BackupService({
        store: source.store,
        coord: source.coord,
        root: source.root,
        backupDir,
        retentionCount: 1000,
        holder: "migrate",
        gate: null,
      });
      const started = performance.now();
      const manifest = await from.create("full");
      console.log(
        `bundle ${manifest.id}: ${manifest.documentCount} documents, ${manifest.files.length} files`,
      );
      const to = new BackupService({
        store: target.store,
        coord: target.coord,
        root: target.root,
        backupDir,
        retentionCount: 1000,
        holder: "migrate",
        gate: null,
      });
      const r = await to.restore(manifest.id, { dryRun: false, datastores: true, filesystem: true });
      console.log(
        `migrated to ${target.store.location}: ${r.datastores.documents} documents, ${r.filesystem.entryCount} files into ${target.root} in ${((performance.now() - started) / 1000).toFixed(2)} s`,
      );
      const secret = clusterSecretFile(target.root);
      if (toProduction && existsSync(secret)) {
        console.log(
          `the cluster CA is sealed with the secret now in ${secret}: set security.clusterSecret (or PREXOR_SECURITY__CLUSTER_SECRET) of every production controller to it, and use ${target.root} as their install root (or copy its templates/ and artifacts/), so daemons reconnect without re-enrolling`,
        );
      }
      console.log("every user must log in again");
      return 0;
    } catch (err) {
      return report(err);
    } finally {
      await target?.close();
      await source?.close();
    }
  },
});
