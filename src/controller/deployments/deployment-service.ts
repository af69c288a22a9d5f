import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { GroupPatch, GroupSpec } from "../../core/groups/group-schema.ts";
import type { DurableStore, Fence } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { type GroupService, toGroupView } from "../groups/group-service.ts";
import type { InstanceService } from "../instances/instance-service.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";
import {
  ACTIVE_STATES,
  DEPLOYMENT_HEADS,
  DEPLOYMENTS,
  type DeploymentDoc,
  type DeploymentHeadDoc,
  deploymentId,
  type PinnedTemplate,
} from "./deployment-doc.ts";
import { type KnobRequest, resolveKnobs } from "./rollout-knobs.ts";
import type { DeploymentTrigger, RolloutKnobs, Strategy } from "./rollout-types.ts";
import { snapshotTemplates, type TemplateHistory } from "./template-pins.ts";

export interface TriggerRequest {
  group: string;
  trigger: Extract<DeploymentTrigger, "manual" | "restart" | "template-change">;
  strategy?: Strategy;
  /** template name → version (`vN`, hash or prefix, `current`) */
  templates?: Record<string, string>;
  /** fields of the group to change with this revision */
  groupPatch?: GroupPatch;
  knobs?: KnobRequest;
  actor: string;
}

export interface DeploymentDeps {
  store: DurableStore;
  groups: GroupService;
  /** the instance records: how many of a group's instances run when a deployment is triggered */
  instances: Pick<InstanceService, "countRunning">;
  templates: { histories(): Promise<TemplateHistory[]> };
  events: EventPublisher;
  lease: LeaseGateOptions;
  evaluationIntervalSeconds: number;
  clock?: Clock;
  /** asks the scheduler for a tick now, so a new or resumed rollout does not wait an interval */
  nudge?: () => void;
  metrics?: { deploymentEnded(outcome: string, seconds: number): void };
}

/** A group's own configuration without its timestamps: what a revision snapshots and a rollback restores. */
function specOf(doc: Parameters<typeof toGroupView>[0]): GroupSpec {
  const { createdAt: _c, updatedAt: _u, ...spec } = toGroupView(doc);
  return spec;
}

/**
 * Deployment records: trigger, pause, resume and rollback, each under the group's `deployment:<name>`
 * lease so two controllers cannot both create a revision or flip a state. Progress itself is written
 * by the scheduler tick under `group:<name>` (DeploymentProgress); both sides write with `ifRev`, so
 * a pause racing a progress write makes one of them re-read instead of one undoing the other.
 */
export class DeploymentService {
  constructor(private readonly deps: DeploymentDeps) {}

  private get col() {
    return this.deps.store.collection<DeploymentDoc>(DEPLOYMENTS);
  }

  private get heads() {
    return this.deps.store.collection<DeploymentHeadDoc>(DEPLOYMENT_HEADS);
  }

  private now(): number {
    return (this.deps.clock ?? systemClock).now();
  }

  private lease<T>(group: string, fn: (fence: Fence) => Promise<T>): Promise<T> {
    return withLease(this.deps.lease, `deployment:${group}`, fn);
  }

  async list(group: string, page: number, pageSize: number) {
    await this.deps.groups.get(group);
    const [docs, total] = await Promise.all([
      this.col.find(
        { groupName: group },
        { sort: [["revision", -1]], skip: (page - 1) * pageSize, limit: pageSize },
      ),
      this.col.count({ groupName: group }),
    ]);
    return { docs, total };
  }

  async get(group: string, revision: number): Promise<DeploymentDoc> {
    const doc = await this.col.get(deploymentId(group, revision));
    if (!doc) throw new AppError("NOT_FOUND", `group "${group}" has no deployment r${revision}`);
    return doc;
  }

  async active(group: string): Promise<DeploymentDoc | null> {
    return this.col.findOne({ groupName: group, state: { $in: [...ACTIVE_STATES] } });
  }

  async trigger(req: TriggerRequest): Promise<DeploymentDoc> {
    await this.deps.groups.get(req.group);
    const doc = await this.lease(req.group, async (fence) => {
      await this.refuseIfActive(req.group);
      const before = specOf(await this.deps.groups.get(req.group));
      const histories = await this.deps.templates.histories();
      const baseline = await this.snapshotOf(req.group, {}, histories);
      if (req.groupPatch !== undefined && Object.keys(req.groupPatch).length > 0)
        await this.deps.groups.update(req.group, req.groupPatch);
      const templateSnapshot = await this.snapshotOf(req.group, req.templates ?? {}, histories);
      const strategy = req.strategy ?? "ROLLING";
      const resolved = await this.deps.groups.resolved(req.group);
      const total = await this.deps.instances.countRunning(req.group);
      const knobs = resolveKnobs(req.knobs ?? {}, {
        strategy,
        total,
        evaluationIntervalSeconds: this.deps.evaluationIntervalSeconds,
        startupTimeoutSeconds: resolved.startupTimeoutSeconds,
      });
      return this.create(
        {
          group: req.group,
          trigger: req.trigger,
          strategy,
          templateSnapshot,
          groupSnapshot: specOf(await this.deps.groups.get(req.group)),
          baseline: { templateSnapshot: baseline, groupSnapshot: before },
          knobs,
          total,
          sameAs: [],
          rollbackOf: null,
          actor: req.actor,
        },
        fence,
      );
    });
    this.deps.nudge?.();
    return doc;
  }

  async pause(group: string, revision: number): Promise<DeploymentDoc> {
    return this.flip(group, revision, "IN_PROGRESS", "PAUSED");
  }

  async resume(group: string, revision: number): Promise<DeploymentDoc> {
    const doc = await this.flip(group, revision, "PAUSED", "IN_PROGRESS");
    this.deps.nudge?.();
    return doc;
  }

  /**
   * A new revision restoring what the group ran before `revision`: the most recent COMPLETED one
   * below it, else what the group was at `revision`'s trigger. An active `revision` ends ROLLED_BACK
   * first. Rollback revisions never roll back automatically.
   */
  async rollback(group: string, revision: number, actor: string): Promise<DeploymentDoc> {
    const doc = await this.lease(group, async (fence) => {
      const from = await this.get(group, revision);
      if (from.strategy === "BLUE_GREEN" && ACTIVE_STATES.includes(from.state))
        return this.unwindBlueGreen(from, actor, fence);
      if (ACTIVE_STATES.includes(from.state)) await this.end(from, "ROLLED_BACK", fence);
      return this.rollbackUnderLease(from, actor, fence);
    });
    this.deps.nudge?.();
    return doc;
  }

  /**
   * An active BLUE_GREEN is rolled back in place, not by a new revision: its planner unwinds it (before
   * the switch green stops; after it blue is undrained, routing switched back while blue runs, then
   * green stops) and ends it ROLLED_BACK. Ending it here at once would lift the routing filter with
   * both sides up. The group config patched at trigger is restored now; new placements return to the
   * previous revision when it ends.
   */
  private async unwindBlueGreen(from: DeploymentDoc, actor: string, fence: Fence): Promise<DeploymentDoc> {
    const current = specOf(await this.deps.groups.get(from.groupName));
    if (JSON.stringify(current) !== JSON.stringify(from.baseline.groupSnapshot)) {
      const { name: _n, ...fields } = from.baseline.groupSnapshot;
      await this.deps.groups.update(from.groupName, fields);
    }
    const updated = await this.col.update(
      from._id,
      {
        state: "IN_PROGRESS",
        failing: from.failing ?? `rolled back by ${actor}`,
        rollbackRequested: true,
        updatedAt: this.now(),
      },
      { fence, ifRev: from._rev },
    );
    if (updated === null) throw new AppError("CONFLICT", `deployment r${from.revision} changed; try again`);
    return updated;
  }

  /** Called by the progress loop after it ended `failed` ROLLED_BACK with promoted instances left. */
  async autoRollback(failed: DeploymentDoc): Promise<DeploymentDoc> {
    const doc = await this.lease(failed.groupName, (fence) =>
      this.rollbackUnderLease(failed, "system", fence),
    );
    this.deps.nudge?.();
    return doc;
  }

  private async rollbackUnderLease(from: DeploymentDoc, actor: string, fence: Fence): Promise<DeploymentDoc> {
    await this.refuseIfActive(from.groupName);
    const completed = await this.col.find(
      { groupName: from.groupName, state: "COMPLETED", revision: { $lt: from.revision } },
      { sort: [["revision", -1]], limit: 1 },
    );
    const target = completed[0];
    const snapshot = target
      ? { templateSnapshot: target.templateSnapshot, groupSnapshot: target.groupSnapshot }
      : from.baseline;
    const current = specOf(await this.deps.groups.get(from.groupName));
    if (JSON.stringify(current) !== JSON.stringify(snapshot.groupSnapshot)) {
      const { name: _n, ...fields } = snapshot.groupSnapshot;
      await this.deps.groups.update(from.groupName, fields);
    }
    const total = await this.deps.instances.countRunning(from.groupName);
    return this.create(
      {
        group: from.groupName,
        trigger: "rollback",
        strategy: from.strategy === "CANARY" ? "ROLLING" : from.strategy,
        templateSnapshot: snapshot.templateSnapshot,
        groupSnapshot: snapshot.groupSnapshot,
        baseline: { templateSnapshot: from.templateSnapshot, groupSnapshot: from.groupSnapshot },
        knobs: { ...from.knobs, autoRollbackOnFailure: false, canaryInstances: 0 },
        total,
        sameAs: [target?.revision ?? from.previousHead],
        rollbackOf: from.revision,
        actor,
      },
      fence,
    );
  }

  private async refuseIfActive(group: string): Promise<void> {
    const active = await this.active(group);
    if (active)
      throw new AppError(
        "CONFLICT",
        `group "${group}" already has deployment r${active.revision} ${active.state}; pause, finish or roll it back first`,
        { revision: active.revision, state: active.state },
      );
  }

  private async snapshotOf(
    group: string,
    pins: Record<string, string>,
    histories: TemplateHistory[],
  ): Promise<Record<string, PinnedTemplate>> {
    const resolved = await this.deps.groups.resolved(group);
    return snapshotTemplates({
      groupName: group,
      platform: resolved.platform,
      userTemplates: resolved.templates,
      templates: histories,
      pins,
    });
  }

  private async create(
    input: {
      group: string;
      trigger: DeploymentTrigger;
      strategy: Strategy;
      templateSnapshot: Record<string, PinnedTemplate>;
      groupSnapshot: GroupSpec;
      baseline: Baseline;
      knobs: RolloutKnobs;
      total: number;
      sameAs: number[];
      rollbackOf: number | null;
      actor: string;
    },
    fence: Fence,
  ): Promise<DeploymentDoc> {
    const latest = await this.col.find({ groupName: input.group }, { sort: [["revision", -1]], limit: 1 });
    const revision = (latest[0]?.revision ?? 0) + 1;
    const previousHead = (await this.heads.get(input.group))?.revision ?? 0;
    const now = this.now();
    const seqId = await this.deps.store.nextSequence("deployment_id");
    const doc = await this.col.insert(
      {
        _id: deploymentId(input.group, revision),
        seqId,
        groupName: input.group,
        revision,
        trigger: input.trigger,
        strategy: input.strategy,
        state: "IN_PROGRESS",
        templateSnapshot: input.templateSnapshot,
        groupSnapshot: input.groupSnapshot,
        baseline: input.baseline,
        knobs: input.knobs,
        totalInstances: input.total,
        updatedInstances: 0,
        sameAs: input.sameAs,
        previousHead,
        waves: [],
        currentWave: null,
        reason: "created",
        gates: [],
        createdAt: now,
        updatedAt: now,
        completedAt: null,
        rollbackOf: input.rollbackOf,
        createdBy: input.actor,
      },
      { fence },
    );
    // From here on new placements of the group (floor, crash replacement) start at this revision.
    await this.heads.put({ _id: input.group, revision }, { fence });
    await this.deps.events.publish({
      type: "DEPLOYMENT_CREATED",
      group: input.group,
      payload: { groupName: input.group, revision, strategy: input.strategy },
    });
    return doc;
  }

  /**
   * Ends an active deployment whose group is gone: nothing can drive it any more (the scheduler only
   * evaluates existing groups). Called by the cluster's deployment reconciler.
   */
  async abandon(doc: DeploymentDoc, reason: string): Promise<void> {
    await this.lease(doc.groupName, async (fence) => {
      const current = await this.col.get(doc._id);
      if (!current || !ACTIVE_STATES.includes(current.state)) return;
      await this.end(current, "FAILED", fence, reason);
    });
  }

  /** Ends an active deployment outside the progress loop (an operator's rollback, a deleted group). */
  private async end(
    doc: DeploymentDoc,
    state: "ROLLED_BACK" | "FAILED",
    fence: Fence,
    reason = "rolled back on request",
  ): Promise<void> {
    const now = this.now();
    await this.updateFresh(doc, { state, completedAt: now, updatedAt: now, reason }, fence);
    await this.heads.put({ _id: doc.groupName, revision: doc.previousHead }, { fence });
    this.deps.metrics?.deploymentEnded(state, (now - doc.createdAt) / 1000);
    await this.deps.events.publish({
      type: "DEPLOYMENT_COMPLETED",
      group: doc.groupName,
      payload: { groupName: doc.groupName, revision: doc.revision, outcome: state },
    });
  }

  private async flip(
    group: string,
    revision: number,
    from: "IN_PROGRESS" | "PAUSED",
    to: "IN_PROGRESS" | "PAUSED",
  ): Promise<DeploymentDoc> {
    return this.lease(group, async (fence) => {
      const doc = await this.get(group, revision);
      if (doc.state !== from)
        throw new AppError("CONFLICT", `deployment r${revision} is ${doc.state}, not ${from}`, {
          state: doc.state,
        });
      const now = this.now();
      return this.updateFresh(
        doc,
        { state: to, updatedAt: now, pausedAt: to === "PAUSED" ? now : null },
        fence,
      );
    });
  }

  /** Writes on the revision read; a progress write in between makes it re-read and retry (bounded). */
  private async updateFresh(
    doc: DeploymentDoc,
    patch: Partial<DeploymentDoc>,
    fence: Fence,
  ): Promise<DeploymentDoc> {
    let current = doc;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const updated = await this.col.update(current._id, patch, { fence, ifRev: current._rev });
        if (updated) return updated;
        throw new AppError("NOT_FOUND", `deployment ${current._id} disappeared`);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== "CONFLICT") throw err;
        current = await this.get(current.groupName, current.revision);
        if (patch.state === "PAUSED" && current.state !== "IN_PROGRESS")
          throw new AppError("CONFLICT", `deployment r${current.revision} is ${current.state} now`);
      }
    }
    throw new AppError("CONFLICT", `deployment ${doc._id} is changing too fast; retry`);
  }
}

interface Baseline {
  templateSnapshot: Record<string, PinnedTemplate>;
  groupSnapshot: GroupSpec;
}
