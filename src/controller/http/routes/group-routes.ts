import type { TSchema } from "@sinclair/typebox";
import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import { GroupCreateSchema, GroupFields, GroupPatchSchema } from "../../../core/groups/group-schema.ts";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import type { GroupPauses } from "../../groups/group-pauses.ts";
import { type GroupService, toGroupView } from "../../groups/group-service.ts";
import { listEnvelope, pageParams, pagingQuery } from "../paging.ts";
import { Iso, Nullable, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

/** Fields every stored group has whatever release wrote it; the rest are typed but optional. */
const ALWAYS = new Set(["platform", "scalingMode", "minInstances", "maxInstances", "maxPlayers", "memoryMb"]);
/** A group as the API shows it: its fields (defaults filled in at write), name and timestamps. */
export const GroupView = T.Object({
  name: T.String(),
  ...(Object.fromEntries(
    Object.entries(GroupFields).map(([key, schema]) => [key, ALWAYS.has(key) ? schema : T.Optional(schema)]),
  ) as Record<string, TSchema>),
  createdAt: Iso,
  updatedAt: Iso,
});
const PauseView = T.Object({
  kind: T.Union([T.Literal("failure"), T.Literal("crash-loop")]),
  code: T.String(),
  reason: T.String(),
  since: T.String(),
  instanceId: T.Optional(T.String()),
  until: T.Optional(T.String()),
});
/** What lists and the one-group read add: why the group is held, or null. */
const GroupWithPause = T.Object({ ...GroupView.properties, pause: Nullable(PauseView) });

const GroupName = T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }) });

export function groupRoutes(table: RouteTable, groups: GroupService, pauses: GroupPauses): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/groups",
      response: Paged(GroupWithPause),
      access: "groups.view",
      tag: "groups",
      summary: "List groups",
      query: pagingQuery(500),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const { data, total } = await groups.list(page, pageSize);
        // `pause` says why a group is not at its desired count; null when nothing holds it.
        const paused = await pauses.all(data.map((g) => g.name));
        const rows = data.map((g) => ({ ...g, pause: paused.get(g.name) ?? null }));
        return listEnvelope(rows, page, pageSize, total);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/groups",
      response: GroupView,
      status: 201,
      access: "groups.create",
      tag: "groups",
      summary: "Create a group; unknown dependencies and dependency cycles are refused",
      body: GroupCreateSchema,
      handler: async ({ body, set, audit }) => {
        const group = await groups.create(body);
        await audit({ action: "group.create", resourceType: "group", resourceId: group.name, after: group });
        set.status = 201;
        return group;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/groups/:name",
      response: GroupWithPause,
      access: "groups.view",
      tag: "groups",
      summary: "One group as stored",
      params: GroupName,
      handler: async ({ params }) => ({
        ...toGroupView(await groups.get(params.name)),
        pause: await pauses.get(params.name),
      }),
    })
    .add({
      method: "POST",
      path: "/api/v1/groups/:name/resume",
      response: StatusAnswer("RESUMED"),
      access: "groups.update",
      tag: "groups",
      summary: "Lift a pause (PERMANENT start failure or crash loop); the scheduler places again next tick",
      params: GroupName,
      handler: async ({ params, audit }) => {
        await groups.get(params.name);
        const lifted = await pauses.resume(params.name);
        if (!lifted) throw new AppError("ILLEGAL_STATE", `group "${params.name}" is not paused`);
        await audit({ action: "group.resume", resourceType: "group", resourceId: params.name });
        return { status: "RESUMED" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/groups/:name/resolved",
      response: T.Object({ name: T.String() }),
      access: "groups.view",
      tag: "groups",
      summary: "The group with its parent chain merged",
      params: GroupName,
      handler: ({ params }) => groups.resolved(params.name),
    })
    .add({
      method: "PATCH",
      path: "/api/v1/groups/:name",
      response: GroupView,
      access: "groups.update",
      tag: "groups",
      summary: "Change the fields given; the result is validated as a whole",
      params: GroupName,
      body: GroupPatchSchema,
      handler: async ({ params, body, audit }) => {
        const { before, after } = await groups.update(params.name, body);
        await audit({
          action: "group.update",
          resourceType: "group",
          resourceId: params.name,
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/groups/:name",
      response: StatusAnswer("DELETED"),
      access: "groups.delete",
      tag: "groups",
      summary: "Delete a group no other group references",
      params: GroupName,
      handler: async ({ params, audit }) => {
        const before = await groups.delete(params.name);
        await audit({ action: "group.delete", resourceType: "group", resourceId: params.name, before });
        return { status: "DELETED" };
      },
    });
}
