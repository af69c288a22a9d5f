import { t as T } from "elysia";
import type { BackupService } from "../../backup/backup-service.ts";
import { listEnvelope } from "../paging.ts";
import { Nullable, Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const BackupId = T.Object({ id: T.String({ pattern: "^\\d{8}-\\d{6}(-\\d{1,3})?$" }) });
const Scope = T.Union([T.Literal("mongo"), T.Literal("full")]);
const Counted = { sha256: T.String(), bytes: T.Integer({ minimum: 0 }) };
const Manifest = T.Object({
  format: T.Integer(),
  id: T.String(),
  productVersion: T.String(),
  createdBy: T.String(),
  storeKind: T.Union([T.Literal("embedded"), T.Literal("mongodb")]),
  coordinationKind: T.Union([T.Literal("memory"), T.Literal("valkey"), T.Literal("none")]),
  scope: Scope,
  createdAt: T.Integer(),
  cut: T.Object({ model: T.String(), at: T.Integer(), heldMs: T.Integer({ minimum: 0 }) }),
  collections: T.Array(
    T.Object({ name: T.String(), file: T.String(), documents: T.Integer({ minimum: 0 }), ...Counted }),
  ),
  files: T.Array(T.Object({ path: T.String(), ...Counted })),
  documentCount: T.Integer({ minimum: 0 }),
  sizeBytes: T.Integer({ minimum: 0 }),
});
const BundleSummary = T.Object({
  id: T.String(),
  createdAt: T.Integer(),
  scope: Scope,
  storeKind: T.String(),
  documentCount: T.Integer({ minimum: 0 }),
  sizeBytes: T.Integer({ minimum: 0 }),
  fileCount: T.Integer({ minimum: 0 }),
  productVersion: T.String(),
});
const Names = T.Array(T.String());
const Journal = T.Object({ bundle: T.String(), startedAt: T.Integer(), phase: T.String() });
const RestoreReport = T.Object({
  bundle: T.String(),
  dryRun: T.Boolean(),
  datastores: T.Object({
    applied: T.Boolean(),
    collections: T.Array(
      T.Object({
        name: T.String(),
        action: T.String(),
        documents: T.Integer({ minimum: 0 }),
        currentDocuments: T.Integer({ minimum: 0 }),
      }),
    ),
    documents: T.Integer({ minimum: 0 }),
    coordination: T.Boolean(),
  }),
  filesystem: T.Object({
    applied: T.Boolean(),
    entryCount: T.Integer({ minimum: 0 }),
    rollbackRoot: Nullable(T.String()),
  }),
  tokensValidAfter: Nullable(T.Number()),
  notes: T.Array(T.String()),
});

/** Backups and restore (spec 80 §8). Bundles stay on the controller's disk; shipping them is the operator's. */
export function backupRoutes(table: RouteTable, backups: BackupService, retentionCount: number): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/backups",
      response: Paged(BundleSummary),
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
      response: Manifest,
      status: 201,
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
      response: T.Object({ keep: Names, remove: Names, removePartials: Names }),
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
      response: T.Object({
        active: Nullable(
          T.Object({
            kind: T.Union([T.Literal("backup"), T.Literal("restore")]),
            id: Nullable(T.String()),
            phase: T.String(),
            documents: T.Integer({ minimum: 0 }),
            bytes: T.Integer({ minimum: 0 }),
            totalDocuments: Nullable(T.Integer({ minimum: 0 })),
            totalBytes: Nullable(T.Integer({ minimum: 0 })),
            startedAt: T.Integer(),
          }),
        ),
      }),
      access: "backups.view",
      tag: "backups",
      summary: "The backup or restore this controller is running, with documents and bytes so far",
      handler: () => ({ active: backups.progress() }),
    })
    .add({
      method: "GET",
      path: "/api/v1/backups/:id",
      response: Manifest,
      access: "backups.view",
      tag: "backups",
      summary: "A bundle's manifest",
      params: BackupId,
      handler: ({ params }) => backups.get(params.id),
    })
    .add({
      method: "POST",
      path: "/api/v1/backups/:id/verify",
      response: T.Object({
        id: T.String(),
        valid: T.Boolean(),
        missingFiles: Names,
        mismatchedFiles: Names,
        problems: T.Array(T.Object({ file: T.String(), reason: T.String() })),
      }),
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
      response: T.Object({ id: T.String(), status: T.Literal("DELETED") }),
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
      response: T.Object({ unfinished: Nullable(Journal) }),
      access: "backups.view",
      tag: "backups",
      summary: "Whether a restore started and did not finish (re-run it with POST /restore)",
      handler: async () => ({ unfinished: await backups.unfinishedRestore() }),
    })
    .add({
      method: "POST",
      path: "/api/v1/restore",
      response: RestoreReport,
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
