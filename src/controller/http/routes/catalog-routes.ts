import { t as T } from "elysia";
import type { CatalogService } from "../../catalog/catalog-service.ts";
import { readBodyCapped } from "../body-reader.ts";
import { pageOf } from "../paging.ts";
import type { RouteTable } from "../route-table.ts";

const Platform = T.String({ pattern: "^[A-Za-z]{2,16}$" });
const Version = T.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$" });
const Sha256 = T.String({ pattern: "^[0-9a-fA-F]{64}$" });
const Url = T.String({ pattern: "^https?://[^\\s]{1,2000}$" });
const EntryParams = T.Object({ platform: Platform, version: Version });
const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

export function catalogRoutes(table: RouteTable, catalog: CatalogService): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/catalog",
      access: "catalog.view",
      tag: "catalog",
      summary: "Runtime catalog: platform versions and their artifacts",
      query: T.Object({
        platform: T.Optional(Platform),
        page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
        pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 50 })),
      }),
      handler: async ({ query }) => {
        return pageOf(await catalog.list(query.platform), query);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/catalog/:platform/versions",
      access: "catalog.manage",
      tag: "catalog",
      summary: "Add a version: its SHA-256 and, unless you upload the file, a download URL",
      params: T.Object({ platform: Platform }),
      body: T.Object(
        { version: Version, sha256: Sha256, url: T.Optional(Url), recommended: T.Optional(T.Boolean()) },
        { additionalProperties: false },
      ),
      handler: async ({ params, body, set, audit }) => {
        const entry = await catalog.add(params.platform, body);
        await audit({
          action: "catalog.add",
          resourceType: "catalog",
          resourceId: `${entry.platform}:${entry.version}`,
          after: entry,
        });
        set.status = 201;
        return entry;
      },
    })
    .add({
      method: "PATCH",
      path: "/api/v1/catalog/:platform/versions/:version",
      access: "catalog.manage",
      tag: "catalog",
      summary: "Change a version's checksum or URL",
      params: EntryParams,
      body: T.Object(
        { sha256: T.Optional(Sha256), url: T.Optional(T.Union([Url, T.Null()])) },
        { additionalProperties: false, minProperties: 1 },
      ),
      handler: async ({ params, body, audit }) => {
        const { before, after } = await catalog.update(params.platform, params.version, body);
        await audit({
          action: "catalog.update",
          resourceType: "catalog",
          resourceId: `${after.platform}:${after.version}`,
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/catalog/:platform/versions/:version",
      access: "catalog.manage",
      tag: "catalog",
      summary: "Remove a version",
      params: EntryParams,
      handler: async ({ params, audit }) => {
        const before = await catalog.remove(params.platform, params.version);
        await audit({
          action: "catalog.remove",
          resourceType: "catalog",
          resourceId: `${before.platform}:${before.version}`,
          before,
        });
        return { status: "DELETED" };
      },
    })
    .add({
      method: "PUT",
      path: "/api/v1/catalog/:platform/versions/:version/recommended",
      access: "catalog.manage",
      tag: "catalog",
      summary: "Make this the platform's recommended version",
      params: EntryParams,
      handler: async ({ params, audit }) => {
        const entry = await catalog.recommend(params.platform, params.version);
        await audit({
          action: "catalog.recommend",
          resourceType: "catalog",
          resourceId: `${entry.platform}:${entry.version}`,
          after: entry,
        });
        return entry;
      },
    })
    .add({
      method: "PUT",
      path: "/api/v1/catalog/:platform/versions/:version/artifact",
      access: "catalog.manage",
      tag: "catalog",
      summary: "Upload the artifact (raw body); the controller serves it to daemons",
      params: EntryParams,
      rawBody: { maxBytes: MAX_ARTIFACT_BYTES },
      handler: async ({ params, request, audit }) => {
        const entry = await catalog.storeArtifact(
          params.platform,
          params.version,
          await readBodyCapped(request, MAX_ARTIFACT_BYTES),
        );
        await audit({
          action: "catalog.update",
          resourceType: "catalog",
          resourceId: `${entry.platform}:${entry.version}`,
          after: entry,
        });
        return entry;
      },
    });
}
