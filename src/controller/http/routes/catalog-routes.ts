import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import type { CatalogResolver } from "../../catalog/catalog-resolver.ts";
import type { CatalogEntry, CatalogService } from "../../catalog/catalog-service.ts";
import { DownloadsApiError } from "../../catalog/papermc-downloads.ts";
import { readBodyCapped } from "../body-reader.ts";
import { pageOf } from "../paging.ts";
import { Nullable, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { MAX_ARTIFACT_BYTES } from "../upload-caps.ts";

const CatalogView = T.Object({
  platform: T.String(),
  version: T.String(),
  sha256: T.String(),
  source: Nullable(
    T.Union([
      T.Object({ kind: T.Literal("url"), url: T.String() }),
      T.Object({ kind: T.Literal("controller"), file: T.String() }),
    ]),
  ),
  recommended: T.Boolean(),
  ready: T.Boolean(),
  /** the publisher's build number (PaperMC); null for entries an operator wrote */
  build: Nullable(T.Integer()),
  origin: T.Union([T.Literal("manual"), T.Literal("import"), T.Literal("papermc")]),
});

const Platform = T.String({ pattern: "^[A-Za-z]{2,16}$" });
const Version = T.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$" });
const Sha256 = T.String({ pattern: "^[0-9a-fA-F]{64}$" });
const Url = T.String({ pattern: "^https?://[^\\s]{1,2000}$" });
const EntryParams = T.Object({ platform: Platform, version: Version });

/** The downloads API's failures as wire errors: nothing published → 422, unreachable → 503. */
async function fromDownloads(work: () => Promise<CatalogEntry>): Promise<CatalogEntry> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof DownloadsApiError)) throw err;
    throw new AppError(err.permanent ? "INVALID_ARGUMENT" : "UNAVAILABLE", err.message, {
      reason: err.permanent ? "NO_PUBLISHED_BUILD" : "DOWNLOADS_API_UNAVAILABLE",
    });
  }
}

export function catalogRoutes(table: RouteTable, catalog: CatalogService, resolver: CatalogResolver): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/catalog",
      response: Paged(CatalogView),
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
      response: CatalogView,
      status: 201,
      access: "catalog.manage",
      tag: "catalog",
      summary:
        "Add a version: its SHA-256 and, unless you upload the file, a download URL; with the version alone (PAPER, FOLIA, VELOCITY, WATERFALL) the newest build is resolved from PaperMC's downloads API",
      params: T.Object({ platform: Platform }),
      body: T.Object(
        {
          version: Version,
          sha256: T.Optional(Sha256),
          url: T.Optional(Url),
          recommended: T.Optional(T.Boolean()),
        },
        { additionalProperties: false },
      ),
      handler: async ({ params, body, set, audit }) => {
        const { sha256 } = body;
        if (sha256 === undefined && body.url !== undefined)
          throw new AppError("INVALID_ARGUMENT", "a url needs its sha256");
        const entry =
          sha256 === undefined
            ? await fromDownloads(() =>
                resolver.fetchInto(params.platform, body.version, {
                  ...(body.recommended ? { recommended: true } : {}),
                }),
              )
            : await catalog.add(params.platform, { ...body, sha256 });
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
      response: CatalogView,
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
      response: StatusAnswer("DELETED"),
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
      response: CatalogView,
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
      response: CatalogView,
      access: "catalog.manage",
      tag: "catalog",
      summary:
        "Upload the artifact (raw body); the controller stores it by content hash and serves it to daemons. With create=true a missing entry is made from the upload's SHA-256 (prexorctl catalog import)",
      params: EntryParams,
      query: T.Object({ create: T.Optional(T.Boolean({ default: false })) }),
      rawBody: { maxBytes: MAX_ARTIFACT_BYTES },
      handler: async ({ params, query, request, audit }) => {
        const entry = await catalog.storeArtifact(
          params.platform,
          params.version,
          await readBodyCapped(request, MAX_ARTIFACT_BYTES),
          { create: query.create === true },
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
