import type { Static } from "@sinclair/typebox";
import { t as T } from "elysia";
import { GroupPatchSchema } from "../../../core/groups/group-schema.ts";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import { toDeploymentView } from "../../deployments/deployment-doc.ts";
import type { DeploymentService } from "../../deployments/deployment-service.ts";
import type { TemplateService } from "../../templates/template-service.ts";
import { listEnvelope, pageParams, pagingQuery } from "../paging.ts";
import { Iso, Nullable, NullableIso, Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

/** A deployment as the API shows it (toDeploymentView). */
const DeploymentView = T.Object({
  id: T.Integer(),
  groupName: T.String(),
  revision: T.Integer({ minimum: 1 }),
  trigger: T.String(),
  strategy: T.String(),
  state: T.String(),
  templateSnapshot: T.Record(T.String(), T.Object({})),
  configSnapshot: T.Object({}),
  totalInstances: T.Integer({ minimum: 0 }),
  updatedInstances: T.Integer({ minimum: 0 }),
  waves: T.Array(T.Object({ startedAt: NullableIso, completedAt: NullableIso })),
  reason: T.String(),
  gates: T.Array(T.Object({})),
  /** BLUE_GREEN only: the side the group's network routing points at */
  routing: T.Optional(T.Union([T.Literal("blue"), T.Literal("green")])),
  createdAt: Iso,
  completedAt: NullableIso,
  rollbackOf: Nullable(T.Integer()),
  createdBy: T.String(),
});

const GroupName = T.String({ pattern: RESOURCE_NAME_PATTERN });
const ByGroup = T.Object({ name: GroupName });
const ByRevision = T.Object({ name: GroupName, rev: T.Integer({ minimum: 1, maximum: 1_000_000_000 }) });
const Seconds = T.Integer({ minimum: -1_000_000, maximum: 1_000_000 });

/**
 * Rollout knobs. Ranges here are wide on purpose: the spec's own checks (batchSize ≤ 0, canaryPercent
 * outside 0..100, …) answer 400 BAD_REQUEST with the field named, from resolveKnobs.
 */
const Knobs = {
  batchSize: T.Optional(Seconds),
  maxUnavailable: T.Optional(Seconds),
  maxSurge: T.Optional(Seconds),
  canaryInstances: T.Optional(Seconds),
  canaryPercent: T.Optional(T.Number({ minimum: -1_000_000, maximum: 1_000_000 })),
  healthGateEnabled: T.Optional(T.Boolean()),
  minHealthySeconds: T.Optional(Seconds),
  promotionTimeoutSeconds: T.Optional(Seconds),
  replacementTimeoutSeconds: T.Optional(Seconds),
  autoRollbackOnFailure: T.Optional(T.Boolean()),
  minHealthyTps: T.Optional(T.Number({ minimum: -1_000_000, maximum: 1_000_000 })),
  drainTimeoutSeconds: T.Optional(Seconds),
};

const DeployBody = T.Object(
  {
    strategy: T.Optional(T.Union([T.Literal("ROLLING"), T.Literal("CANARY"), T.Literal("BLUE_GREEN")])),
    templates: T.Optional(
      T.Record(T.String({ pattern: RESOURCE_NAME_PATTERN }), T.String({ minLength: 1, maxLength: 64 }), {
        maxProperties: 64,
      }),
    ),
    group: T.Optional(GroupPatchSchema),
    ...Knobs,
  },
  { additionalProperties: false },
);

const RestartBody = T.Optional(
  T.Object(
    { strategy: T.Optional(T.Union([T.Literal("ROLLING"), T.Literal("CANARY")])), ...Knobs },
    { additionalProperties: false },
  ),
);

function knobsOf(body: Record<string, unknown>) {
  const { strategy: _s, templates: _t, group: _g, ...knobs } = body;
  return knobs;
}

const SavedView = T.Object({
  instanceId: T.String(),
  template: T.String(),
  version: T.Object({ hash: T.String() }),
  created: T.Boolean(),
  files: T.Array(T.String()),
  skipped: T.Array(T.String()),
});

export function deploymentRoutes(
  table: RouteTable,
  deployments: DeploymentService,
  templates: TemplateService,
  saveToTemplate?: (instanceId: string, template: string, actor: string) => Promise<Static<typeof SavedView>>,
): void {
  if (saveToTemplate !== undefined) {
    table.add({
      method: "POST",
      path: "/api/v1/services/:id/save-to-template",
      access: "templates.update",
      tag: "deployments",
      summary:
        "Deploy-back: the running instance's text config files become a new version of the template (409 unless RUNNING)",
      // the instance routes' id rule
      params: T.Object({ id: T.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" }) }),
      body: T.Object(
        { template: T.String({ pattern: RESOURCE_NAME_PATTERN }) },
        { additionalProperties: false },
      ),
      response: SavedView,
      status: 201,
      handler: async ({ params, body, caller, audit, set }) => {
        const saved = await saveToTemplate(params.id, body.template, caller.username);
        await audit({
          action: "template.save-from-instance",
          resourceType: "template",
          resourceId: body.template,
          details: { instanceId: params.id, hash: saved.version.hash, files: saved.files.length },
        });
        set.status = 201;
        return saved;
      },
    });
  }
  table
    .add({
      method: "POST",
      path: "/api/v1/groups/:name/deploy",
      response: DeploymentView,
      status: 202,
      access: "groups.update",
      tag: "deployments",
      summary:
        "Roll the group to a new revision: template pins and/or a group patch, strategy and rollout knobs (202 + record; 409 while another deployment of the group is active)",
      params: ByGroup,
      body: DeployBody,
      handler: async ({ params, body, set, audit, caller }) => {
        const doc = await deployments.trigger({
          group: params.name,
          trigger: "manual",
          ...(body.strategy !== undefined ? { strategy: body.strategy } : {}),
          ...(body.templates !== undefined ? { templates: body.templates } : {}),
          ...(body.group !== undefined ? { groupPatch: body.group } : {}),
          knobs: knobsOf(body),
          actor: caller.username,
        });
        const view = toDeploymentView(doc);
        await audit({
          action: "deployment.trigger",
          resourceType: "deployment",
          resourceId: `${params.name}:${doc.revision}`,
          after: view,
        });
        set.status = 202;
        return view;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/groups/:name/restart",
      response: DeploymentView,
      status: 202,
      access: "groups.update",
      tag: "deployments",
      summary: "Rolling restart: a new revision with the same content, through the deployment path (202)",
      params: ByGroup,
      body: RestartBody,
      handler: async ({ params, body, set, audit, caller }) => {
        const doc = await deployments.trigger({
          group: params.name,
          trigger: "restart",
          ...(body?.strategy !== undefined ? { strategy: body.strategy } : {}),
          knobs: knobsOf(body ?? {}),
          actor: caller.username,
        });
        const view = toDeploymentView(doc);
        await audit({
          action: "deployment.restart",
          resourceType: "deployment",
          resourceId: `${params.name}:${doc.revision}`,
          after: view,
        });
        set.status = 202;
        return view;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/groups/:name/deployments",
      response: Paged(DeploymentView),
      access: "groups.view",
      tag: "deployments",
      summary: "The group's deployments, newest first",
      params: ByGroup,
      query: pagingQuery(100),
      handler: async ({ params, query }) => {
        const { page, pageSize } = pageParams(query);
        const { docs, total } = await deployments.list(params.name, page, pageSize);
        return listEnvelope(docs.map(toDeploymentView), page, pageSize, total);
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/groups/:name/deployments/:rev",
      response: DeploymentView,
      access: "groups.view",
      tag: "deployments",
      summary: "One deployment with its waves and gate verdicts",
      params: ByRevision,
      handler: async ({ params }) => toDeploymentView(await deployments.get(params.name, params.rev)),
    });

  for (const [verb, summary] of [
    ["pause", "Hold the rollout at the next wave boundary (409 unless IN_PROGRESS)"],
    ["resume", "Continue a paused rollout from the instances' revisions (409 unless PAUSED)"],
    [
      "rollback",
      "A new revision restoring the last COMPLETED one before this (an active one ends ROLLED_BACK)",
    ],
  ] as const) {
    table.add({
      method: "POST",
      path: `/api/v1/groups/:name/deployments/:rev/${verb}`,
      access: "groups.update",
      tag: "deployments",
      summary,
      params: ByRevision,
      response: DeploymentView,
      status: verb === "rollback" ? 202 : 200,
      handler: async ({ params, audit, caller, set }) => {
        const doc =
          verb === "pause"
            ? await deployments.pause(params.name, params.rev)
            : verb === "resume"
              ? await deployments.resume(params.name, params.rev)
              : await deployments.rollback(params.name, params.rev, caller.username);
        await audit({
          action: `deployment.${verb}`,
          resourceType: "deployment",
          resourceId: `${params.name}:${params.rev}`,
          ...(verb === "rollback" ? { details: { revision: doc.revision } } : {}),
        });
        if (verb === "rollback") set.status = 202;
        return toDeploymentView(doc);
      },
    });
  }

  table.add({
    method: "GET",
    path: "/api/v1/templates/:name/export",
    rawType: "application/gzip",
    access: "templates.view",
    tag: "templates",
    summary: "A template version (default: current) as tar.gz, what `template pull` unpacks",
    params: T.Object({ name: GroupName }),
    query: T.Object(
      { version: T.Optional(T.String({ pattern: "^[0-9a-f]{6,64}$" })) },
      { additionalProperties: false },
    ),
    raw: true,
    handler: async ({ params, query }) => {
      const { hash, bytes } = await templates.exportArchive(params.name, query.version);
      return new Response(bytes, {
        headers: {
          "content-type": "application/gzip",
          "content-disposition": `attachment; filename="${params.name}-${hash.slice(0, 12)}.tar.gz"`,
          "x-template-hash": hash,
        },
      });
    },
  });
}
