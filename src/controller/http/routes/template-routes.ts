import { t as T } from "elysia";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import type { TemplateService } from "../../templates/template-service.ts";
import { readBodyCapped } from "../body-reader.ts";
import { pageOf, pagingQuery } from "../paging.ts";
import { DataOf, Iso, Nullable, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { MAX_UPLOAD_BYTES } from "../upload-caps.ts";

const TemplateName = T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }) });
const Hash = T.String({ pattern: "^[0-9a-f]{64}$" });
const TemplateView = T.Object({
  name: T.String(),
  description: T.String(),
  platform: Nullable(T.String()),
  currentHash: Nullable(Hash),
  sizeBytes: T.Integer({ minimum: 0 }),
  fileCount: T.Integer({ minimum: 0 }),
  versionCount: T.Integer({ minimum: 0 }),
  createdAt: Iso,
  updatedAt: Iso,
});
const VersionView = T.Object({
  hash: Hash,
  sizeBytes: T.Integer({ minimum: 0 }),
  fileCount: T.Integer({ minimum: 0 }),
  createdAt: T.Integer(),
  createdBy: T.String(),
});

export function templateRoutes(table: RouteTable, templates: TemplateService): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/templates",
      response: Paged(TemplateView),
      access: "templates.view",
      tag: "templates",
      summary: "List templates",
      query: pagingQuery(200),
      handler: async ({ query }) => {
        return pageOf(await templates.list(), query);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/templates",
      response: TemplateView,
      status: 201,
      access: "templates.create",
      tag: "templates",
      summary: "Create an (empty) template; upload versions to it",
      body: T.Object(
        {
          name: T.String({ pattern: RESOURCE_NAME_PATTERN }),
          description: T.Optional(T.String({ maxLength: 512 })),
          platform: T.Optional(T.Union([T.String({ maxLength: 32 }), T.Null()])),
        },
        { additionalProperties: false },
      ),
      handler: async ({ body, set, audit }) => {
        const template = await templates.create(body);
        await audit({
          action: "template.create",
          resourceType: "template",
          resourceId: template.name,
          after: template,
        });
        set.status = 201;
        return template;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/templates/:name",
      response: TemplateView,
      access: "templates.view",
      tag: "templates",
      summary: "One template",
      params: TemplateName,
      handler: ({ params }) => templates.get(params.name),
    })
    .add({
      method: "PATCH",
      path: "/api/v1/templates/:name",
      response: TemplateView,
      access: "templates.update",
      tag: "templates",
      summary: "Change a template's description or platform",
      params: TemplateName,
      body: T.Object(
        {
          description: T.Optional(T.String({ maxLength: 512 })),
          platform: T.Optional(T.Union([T.String({ maxLength: 32 }), T.Null()])),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      handler: async ({ params, body, audit }) => {
        const { before, after } = await templates.update(params.name, body);
        await audit({
          action: "template.update",
          resourceType: "template",
          resourceId: params.name,
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/templates/:name",
      response: StatusAnswer("DELETED"),
      access: "templates.delete",
      tag: "templates",
      summary: "Delete a template no group uses, with all its versions",
      params: TemplateName,
      handler: async ({ params, audit }) => {
        const before = await templates.delete(params.name);
        await audit({ action: "template.delete", resourceType: "template", resourceId: params.name, before });
        return { status: "DELETED" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/templates/:name/versions",
      response: DataOf(VersionView),
      access: "templates.view",
      tag: "templates",
      summary: "Versions, newest first",
      params: TemplateName,
      handler: async ({ params }) => ({ data: await templates.versions(params.name) }),
    })
    .add({
      method: "POST",
      path: "/api/v1/templates/:name/versions",
      response: VersionView,
      status: [200, 201],
      access: "templates.update",
      tag: "templates",
      summary: "Upload a version (tar.gz or zip body); it becomes current",
      params: TemplateName,
      rawBody: { maxBytes: MAX_UPLOAD_BYTES },
      handler: async ({ params, request, caller, set, audit }) => {
        const archive = await readBodyCapped(request, MAX_UPLOAD_BYTES);
        const { version, created } = await templates.upload(params.name, archive, caller.username);
        await audit({
          action: "template.upload",
          resourceType: "template",
          resourceId: params.name,
          after: version,
        });
        set.status = created ? 201 : 200;
        return version;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/templates/:name/rollback",
      response: T.Object({ from: Nullable(Hash), to: Hash }),
      access: "templates.update",
      tag: "templates",
      summary: "Make an earlier version current (default: the previous one)",
      params: TemplateName,
      body: T.Object({ hash: T.Optional(Hash) }, { additionalProperties: false }),
      handler: async ({ params, body, audit }) => {
        const result = await templates.rollback(params.name, body.hash);
        await audit({
          action: "template.rollback",
          resourceType: "template",
          resourceId: params.name,
          details: result,
        });
        return result;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/templates/:name/versions/:hash",
      response: StatusAnswer("DELETED"),
      access: "templates.delete",
      tag: "templates",
      summary: "Delete a version that is not current",
      params: T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }), hash: Hash }),
      handler: async ({ params, audit }) => {
        const before = await templates.deleteVersion(params.name, params.hash);
        await audit({
          action: "template.version.delete",
          resourceType: "template",
          resourceId: params.name,
          before,
        });
        return { status: "DELETED" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/templates/:name/files",
      response: DataOf(T.Object({ path: T.String(), sizeBytes: T.Integer({ minimum: 0 }) })),
      access: "templates.view",
      tag: "templates",
      summary: "Files of a version (default: current)",
      params: TemplateName,
      query: T.Object({ version: T.Optional(Hash) }),
      handler: async ({ params, query }) => ({ data: await templates.listFiles(params.name, query.version) }),
    });
}
