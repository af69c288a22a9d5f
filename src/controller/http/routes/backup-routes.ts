import { t as T } from "elysia";
import type { BackupService } from "../../backup/backup-service.ts";
import { listEnvelope } from "../paging.ts";
import type { RouteTable } from "../route-table.ts";

const BackupId = T.Object({ id: T.String({ pattern: "^\\d{8}-\\d{6}(-\\d{1,3})?$" }) });

/** Backups and restore (spec 80 §8). Bundles stay on the controller's disk; shipping them is the operator's. */
export function backupRoutes(table: RouteTable, backups: BackupService, retentionCount: number): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/backups",
      access: "backups.view",
      tag: "backups",
      summary: "List complete backup bundles, newest first",
      handler: () => {
        const all = backups.list();
        return listEnvelope(all, 1, Math.max(1, all.length), all.length);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/backups",
      access: "backups.manage",
      tag: "backups",
      summary:
        "Take a backup bundle (scope mongo: durable store; full: + coordination + filesystem), then prune",
      body: T.Object(
        { scope: T.Optional(T.Union([T.Literal("mongo"), T.Literal("full")])) },
        { additionalProperties: false },
      ),
      handler: async ({ body, set, audit }) => {
        const manifest = await backups.create(body.scope ?? "full");
        await audit({
          action: "backup.create",
          resourceType: "backup",
          resourceId: manifest.id,
          details: { scope: manifest.scope, documents: manifest.documentCount, bytes: manifest.sizeBytes },
        });
        set.status = 201;
        return manifest;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/backups/prune",
      access: "backups.manage",
      tag: "backups",
      summary: "Keep the newest `keep` bundles (default backup.retentionCount), delete the rest",
      query: T.Object({ keep: T.Optional(T.Integer({ minimum: 0, maximum: 100000 })) }),
      handler: async ({ query, audit }) => {
        const plan = backups.prune(query.keep ?? retentionCount);
        await audit({
          action: "backup.prune",
          resourceType: "backup",
          resourceId: "*",
          details: { ...plan },
        });
        return plan;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/backups/progress",
      access: "backups.view",
      tag: "backups",
      summary: "The backup or restore this controller is running, with documents and bytes so far",
      handler: () => ({ active: backups.progress() }),
    })
    .add({
      method: "GET",
      path: "/api/v1/backups/:id",
      access: "backups.view",
      tag: "backups",
      summary: "A bundle's manifest",
      params: BackupId,
      handler: ({ params }) => backups.get(params.id),
    })
    .add({
      method: "POST",
      path: "/api/v1/backups/:id/verify",
      access: "backups.view",
      tag: "backups",
      summary: "Recompute every file's SHA-256 against the manifest",
      params: BackupId,
      handler: async ({ params }) => {
        const { manifest: _manifest, ...result } = await backups.verify(params.id);
        return result;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/backups/:id",
      access: "backups.manage",
      tag: "backups",
      summary: "Delete a bundle",
      params: BackupId,
      handler: async ({ params, audit }) => {
        backups.delete(params.id);
        await audit({ action: "backup.delete", resourceType: "backup", resourceId: params.id });
        return { id: params.id, status: "DELETED" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/restore",
      access: "backups.view",
      tag: "backups",
      summary: "Whether a restore started and did not finish (re-run it with POST /restore)",
      handler: async () => ({ unfinished: await backups.unfinishedRestore() }),
    })
    .add({
      method: "POST",
      path: "/api/v1/restore",
      access: "backups.restore",
      tag: "backups",
      summary:
        "Restore a bundle (422 RESTORE_REJECTED when it fails verification, 409 during a drain or deployment)",
      body: T.Object({
        id: BackupId.properties.id,
        dryRun: T.Optional(T.Boolean()),
        filesystem: T.Optional(T.Boolean()),
        datastores: T.Optional(T.Boolean()),
      }),
      handler: async ({ body, audit }) => {
        const report = await backups.restore(body.id, {
          dryRun: body.dryRun ?? false,
          filesystem: body.filesystem ?? true,
          datastores: body.datastores ?? true,
        });
        if (!report.dryRun) {
          await audit({
            action: "backup.restore",
            resourceType: "backup",
            resourceId: body.id,
            details: { documents: report.datastores.documents, files: report.filesystem.entryCount },
          });
        }
        return report;
      },
    });
}
