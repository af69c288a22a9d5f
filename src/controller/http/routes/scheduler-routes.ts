import { t as T } from "elysia";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import type { SchedulerLoop } from "../../scheduler/loop/index.ts";
import { toTickView } from "../../scheduler/loop/index.ts";
import type { PlacementExplanation } from "../../scheduler/types.ts";
import { Iso, Nullable } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const GroupName = T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }) });

/** Per node, in score order: the chosen node first, then other candidates, then the rejected ones. */
export function toPlacementView(explanation: PlacementExplanation) {
  const chosen = explanation.skip === undefined ? (explanation.candidates[0]?.node ?? null) : null;
  return {
    group: explanation.group,
    skip: explanation.skip ?? null,
    chosen,
    nodes: [
      ...explanation.candidates.map((c) => ({
        node: c.node,
        eligible: true,
        chosen: c.node === chosen,
        port: c.port,
        score: c.score,
        reason:
          c.node === chosen
            ? "highest score"
            : explanation.skip !== undefined
              ? `eligible, but the group is held: ${explanation.skip}`
              : "eligible, lower score",
      })),
      ...explanation.rejected.map((r) => ({
        node: r.node,
        eligible: false,
        chosen: false,
        code: r.code,
        reason: r.reason,
      })),
    ],
  };
}

export function schedulerRoutes(
  table: RouteTable,
  deps: { scheduler: SchedulerLoop; intervalSeconds: number },
): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/groups/:name/placement",
      response: T.Object({
        group: T.String(),
        skip: Nullable(T.String()),
        chosen: Nullable(T.String()),
        nodes: T.Array(
          T.Object({
            node: T.String(),
            eligible: T.Boolean(),
            chosen: T.Boolean(),
            reason: T.String(),
            port: T.Optional(T.Integer()),
            score: T.Optional(T.Number()),
            code: T.Optional(T.String()),
          }),
        ),
      }),
      access: "groups.view",
      tag: "groups",
      summary: "Why each node would or would not take the group's next instance",
      params: GroupName,
      handler: async ({ params }) => toPlacementView(await deps.scheduler.explain(params.name)),
    })
    .add({
      method: "GET",
      path: "/api/v1/scheduler",
      response: T.Object({
        intervalSeconds: T.Number(),
        lastTick: Nullable(T.Object({ at: Iso, durationMs: T.Number(), ok: T.Boolean() })),
        leases: T.Array(T.String()),
      }),
      access: "groups.view",
      tag: "groups",
      summary: "The last scheduler tick: when, how long, what it did and which groups wait (and why)",
      handler: () => ({
        ...toTickView(deps.scheduler.lastReport(), deps.intervalSeconds),
        leases: deps.scheduler.heldScopes(),
      }),
    });
}
