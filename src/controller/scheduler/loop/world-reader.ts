import type { Doc, DurableStore } from "../../../store/port.ts";
import { CRASH_LOOPS } from "../../crashes/crash-loop-guard.ts";
import {
  ACTIVE_STATES,
  DEPLOYMENT_HEADS,
  DEPLOYMENTS,
  type DeploymentDoc,
  type DeploymentHeadDoc,
} from "../../deployments/deployment-doc.ts";
import { resolveAll } from "../../groups/group-inheritance.ts";
import { GROUP_PAUSES } from "../../groups/group-pauses.ts";
import type { GroupDoc } from "../../groups/group-service.ts";
import { GROUPS } from "../../groups/group-service.ts";
import type { NodeDoc, NodeInstanceReport } from "../../nodes/node-doc.ts";
import { NODES } from "../../nodes/node-service.ts";
import type { SchedGroup, SchedInstance, SchedNode, TickRollout } from "../types.ts";
import {
  type GroupRuntimeFields,
  type SchedulerInstanceDoc,
  toSchedGroup,
  toSchedInstance,
  toSchedNode,
} from "./world-mapping.ts";

/** What the reader needs besides the store (narrow, so tests can stub it). */
export interface WorldSources {
  store: DurableStore;
  /** instance records, read through their service only (bounded at its list limit) */
  instanceRecords: { findMany(): Promise<readonly SchedulerInstanceDoc[]> };
  maintenance: { get(): Promise<{ enabled: boolean }> };
  /** plugin-reported metrics; read only for what a deployment's TPS gate judges */
  instanceMetrics?: { latest(instanceId: string): Promise<{ values: Record<string, unknown> } | null> };
}

/** One consistent-enough read of everything a tick decides on. */
export interface World {
  readonly now: number;
  readonly groups: readonly SchedGroup[];
  readonly nodes: readonly SchedNode[];
  readonly instances: readonly SchedInstance[];
  readonly nodeDocs: readonly NodeDoc[];
  readonly globalMaintenance: boolean;
  /** IN_PROGRESS and PAUSED deployments, one per group at most */
  readonly deployments: readonly DeploymentDoc[];
  /** per group, the revision new placements are stamped with */
  readonly heads: ReadonlyMap<string, number>;
}

/** One active deployment per group is the rule; a scan bound keeps a corrupt store from flooding a tick. */
export const ACTIVE_DEPLOYMENT_SCAN = 1000;

export function rolloutsOf(world: World): TickRollout[] {
  return world.deployments.map((d) => ({
    group: d.groupName,
    deployment: {
      revision: d.revision,
      strategy: d.strategy,
      state: d.state,
      knobs: d.knobs,
      totalInstances: d.totalInstances,
      sameAs: d.sameAs,
      ...(d.routing !== undefined ? { routing: d.routing } : {}),
      ...(d.switchedAt !== undefined ? { switchedAt: d.switchedAt } : {}),
      ...(d.failing !== undefined ? { failing: d.failing } : {}),
    },
  }));
}

/**
 * The crash-loop detector's state (`crash_loops`, keyed by group). Read alongside a `crashLoopPausedUntil`
 * field on the group document, either of which pauses the group.
 */
/** A PERMANENT-failure pause (`group_pauses`, written by GroupPauses). */
interface FailurePause extends Doc {
  reason: string;
}

interface CrashLoopPause extends Doc {
  pausedUntilMs?: number | null;
}

/** Ample for any real installation; a cap keeps one runaway collection from exhausting memory. */
const READ_LIMIT = 1_000_000;

/**
 * Reads groups, nodes, instances and global maintenance from the store, one read per collection per
 * tick; groups are resolved through their parents in memory. The collections are read concurrently;
 * the store has no snapshots, so a tick may see a write half-applied — harmless, because every decision is re-checked against the lease and the store's
 * fencing when it is carried out, and the next tick sees the rest.
 */
export class WorldReader {
  constructor(private readonly sources: WorldSources) {}

  /**
   * TPS of the RUNNING instances at the target revision of deployments whose gate has a TPS floor:
   * the only instances whose TPS the tick judges, so the coordination store is asked for few.
   */
  private async tpsOfGatedReplacements(
    deployments: readonly DeploymentDoc[],
    docs: readonly SchedulerInstanceDoc[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const metrics = this.sources.instanceMetrics;
    if (metrics === undefined) return out;
    const gated = new Map<string, number>();
    for (const d of deployments)
      if (d.knobs.healthGateEnabled && d.knobs.minHealthyTps > 0) gated.set(d.groupName, d.revision);
    if (gated.size === 0) return out;
    const wanted = docs.filter((d) => d.state === "RUNNING" && gated.get(d.group) === d.deploymentRevision);
    await Promise.all(
      wanted.map(async (d) => {
        // no readable metrics: this instance has no TPS figure this tick (as if it had not reported)
        const tps = tpsOf((await metrics.latest(d._id).catch(() => null))?.values);
        if (tps !== undefined) out.set(d._id, tps);
      }),
    );
    return out;
  }

  async read(now: number): Promise<World> {
    const { store } = this.sources;
    const [groupDocs, nodeDocs, instanceDocs, maintenance, crashLoops, failurePauses, deployments, heads] =
      await Promise.all([
        store.collection<GroupDoc & GroupRuntimeFields>(GROUPS).find({}, { limit: READ_LIMIT }),
        store.collection<NodeDoc>(NODES).find({}, { limit: READ_LIMIT }),
        this.sources.instanceRecords.findMany(),
        this.sources.maintenance.get(),
        store
          .collection<CrashLoopPause>(CRASH_LOOPS)
          .find({ pausedUntilMs: { $gt: now } }, { limit: READ_LIMIT }),
        store.collection<FailurePause>(GROUP_PAUSES).find({}, { limit: READ_LIMIT }),
        store
          .collection<DeploymentDoc>(DEPLOYMENTS)
          .find(
            { state: { $in: [...ACTIVE_STATES] } },
            { sort: [["createdAt", 1]], limit: ACTIVE_DEPLOYMENT_SCAN },
          ),
        store.collection<DeploymentHeadDoc>(DEPLOYMENT_HEADS).find({}, { limit: READ_LIMIT }),
      ]);
    const failed = new Map(failurePauses.map((d) => [d._id, d.reason]));
    const pausedUntil = new Map(crashLoops.map((d) => [d._id, d.pausedUntilMs ?? 0]));

    const own = new Map(groupDocs.map((d) => [d._id, d]));
    const groups: SchedGroup[] = [];
    for (const spec of resolveAll(groupDocs)) {
      // The crash-loop pause is read from the group's own document: inheriting it would let a child
      // take its parent's pause.
      const until = Math.max(own.get(spec.name)?.crashLoopPausedUntil ?? 0, pausedUntil.get(spec.name) ?? 0);
      const reason = failed.get(spec.name);
      groups.push(
        toSchedGroup(
          spec,
          { crashLoopPausedUntil: until, ...(reason !== undefined ? { failurePause: reason } : {}) },
          now,
        ),
      );
    }
    const memoryOf = new Map(groups.map((g) => [g.name, g.memoryMb]));

    // Uptime comes from heartbeat reports when the record has no start time. Players do not: the
    // record's counter is what plugins and daemon reports both update, a heartbeat's may be stale.
    const reports = new Map<string, NodeInstanceReport>();
    for (const node of nodeDocs) {
      for (const report of node.instances) reports.set(report.instanceId, report);
    }
    const gated = await this.tpsOfGatedReplacements(deployments, instanceDocs);
    const instances: SchedInstance[] = [];
    for (const doc of instanceDocs) {
      const inst = toSchedInstance(doc, memoryOf.get(doc.group), reports.get(doc._id), now);
      if (inst === undefined) continue;
      const tps = gated.get(doc._id);
      instances.push(tps === undefined ? inst : { ...inst, tps1m: tps });
    }
    return {
      now,
      groups,
      nodes: nodeDocs.map(toSchedNode),
      instances,
      nodeDocs,
      globalMaintenance: maintenance.enabled,
      deployments: firstPerGroup(deployments),
      heads: new Map(heads.map((h) => [h._id, h.revision])),
    };
  }
}

/** A TPS figure a plugin reported, when it is one. */
function tpsOf(values: Record<string, unknown> | undefined): number | undefined {
  const tps = values?.tps1m;
  return typeof tps === "number" && Number.isFinite(tps) && tps > 0 ? tps : undefined;
}

/** Should two ever be active for one group (a restore, a hand edit), the older one is driven. */
function firstPerGroup(docs: readonly DeploymentDoc[]): DeploymentDoc[] {
  const seen = new Set<string>();
  return docs.filter((d) => !seen.has(d.groupName) && seen.add(d.groupName) !== undefined);
}
