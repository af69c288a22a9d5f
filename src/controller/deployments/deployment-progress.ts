import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore, Fence } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { GroupExecution } from "../scheduler/loop/group-executor.ts";
import { fenceOf, type ScopedLeases } from "../scheduler/loop/scoped-leases.ts";
import type { RolloutOutcome } from "../scheduler/types.ts";
import {
  DEPLOYMENT_HEADS,
  DEPLOYMENTS,
  type DeploymentDoc,
  type DeploymentHeadDoc,
  type WaveRecord,
} from "./deployment-doc.ts";
import type { DeploymentState } from "./rollout-types.ts";

/** Gate verdicts kept on the record: the latest ones, enough for `deploy show`. */
const GATES_KEPT = 50;

export interface ProgressDeps {
  store: DurableStore;
  leases: ScopedLeases;
  events: EventPublisher;
  log: Logger;
  metrics?: { deploymentEnded(outcome: string, seconds: number): void };
  /** creates the rollback revision after an automatic rollback with promoted instances left */
  autoRollback?: (failed: DeploymentDoc) => Promise<unknown>;
  audit?: (entry: { action: string; resourceId: string; details: Record<string, unknown> }) => Promise<void>;
}

/**
 * Writes what a tick's rollout decisions mean for their deployment records: waves opened and closed,
 * progress, gate verdicts, the end state. Only under the group's lease (the one the tick's actions ran
 * under), fenced, and on the record's revision as read (`ifRev`): an operator's pause in between wins
 * and the next tick decides again from the instances.
 */
export class DeploymentProgress {
  constructor(private readonly deps: ProgressDeps) {}

  async record(
    outcomes: readonly RolloutOutcome[],
    deployments: readonly DeploymentDoc[],
    runs: readonly GroupExecution[],
    at: number,
  ): Promise<void> {
    const byGroup = new Map(deployments.map((d) => [d.groupName, d]));
    const runOf = new Map(runs.map((r) => [r.group, r]));
    for (const outcome of outcomes) {
      const doc = byGroup.get(outcome.group);
      if (doc === undefined || doc.revision !== outcome.revision) continue;
      try {
        await this.recordOne(doc, outcome, runOf.get(outcome.group), at);
      } catch (err) {
        const code = err instanceof AppError ? err.code : undefined;
        // CONFLICT: an operator changed the record since it was read; STALE_FENCING_TOKEN: the lease
        // moved. Either way the next tick (here or on the new owner) decides again.
        if (code === "CONFLICT" || code === "STALE_FENCING_TOKEN") continue;
        this.deps.log.warn(
          { group: outcome.group, revision: outcome.revision, err },
          "could not record deployment progress",
        );
      }
    }
  }

  private async recordOne(
    doc: DeploymentDoc,
    outcome: RolloutOutcome,
    run: GroupExecution | undefined,
    at: number,
  ): Promise<void> {
    const { decision } = outcome;
    const placed = appliedReplacements(outcome, run);
    const closed: WaveRecord[] = [];
    let waves = doc.waves;
    let current = doc.currentWave;
    const close = (verdict: WaveRecord["verdict"], reason: string) => {
      if (current === null) return;
      const done = { ...current, completedAt: at, verdict, reason };
      waves = [...waves, done];
      closed.push(done);
      current = null;
    };
    // A wave whose replacements found no node did not happen: nothing opens, nothing closes, and the
    // next tick tries the same instances again (without a wave record per attempt).
    const started = decision.waveStarted.length > 0 && placed.size > 0;
    const stillUnplaced =
      current?.replaced.every((r) => r.new === null) === true && decision.waveStarted.length > 0;
    // BLUE_GREEN: a routing switch is durable state the next tick acts on (blue drains only once the
    // record says green), and so is a failure being unwound over several ticks.
    const switching = decision.switchTo !== undefined && decision.switchTo !== (doc.routing ?? "blue");
    const newlyFailing = decision.failing !== undefined && doc.failing === undefined;
    if (decision.verdict === "failed") close("failed", decision.reason);
    else if (switching && decision.switchTo === "green")
      close("passed", `routing switched to r${doc.revision}`);
    else if (stillUnplaced) {
      // an earlier record's unplaced wave: replaced by the one that starts now, else kept as it is
      if (started) current = null;
    } else if (decision.verdict === "completed" || started || !decision.waveOpen) {
      close("passed", "every replacement passed the gate");
    }
    if (started) {
      current = {
        index: waves.length + 1,
        kind: doc.knobs.canaryInstances > 0 && waves.length === 0 ? "canary" : "batch",
        startedAt: at,
        completedAt: null,
        replaced: decision.waveStarted.map((old) => ({ old, new: placed.get(old) ?? null })),
        verdict: "pending",
        reason: decision.reason,
      };
    } else if (current !== null && current.reason !== decision.reason) {
      current = { ...current, reason: decision.reason };
    }

    let state: DeploymentState = doc.state;
    if (decision.verdict === "completed") state = "COMPLETED";
    if (decision.verdict === "failed")
      state =
        doc.rollbackRequested === true || (doc.knobs.autoRollbackOnFailure && doc.trigger !== "rollback")
          ? "ROLLED_BACK"
          : "FAILED";
    const ended = state !== doc.state && state !== "IN_PROGRESS" && state !== "PAUSED";
    const gates = decision.gates.slice(0, GATES_KEPT);
    const unchanged =
      !ended &&
      !switching &&
      !newlyFailing &&
      closed.length === 0 &&
      current === doc.currentWave &&
      doc.updatedInstances === decision.progress.updated &&
      doc.reason === decision.reason &&
      JSON.stringify(doc.gates) === JSON.stringify(gates);
    if (unchanged) return;

    const lease = await this.deps.leases.hold(`group:${doc.groupName}`);
    if (lease === null || !(await this.deps.leases.isCurrent(lease))) return;
    const fence = fenceOf(lease);
    const updated = await this.deps.store.collection<DeploymentDoc>(DEPLOYMENTS).update(
      doc._id,
      {
        state,
        waves,
        currentWave: current,
        updatedInstances: decision.progress.updated,
        reason: decision.reason,
        gates,
        updatedAt: at,
        ...(ended ? { completedAt: at } : {}),
        ...(switching ? { routing: decision.switchTo, switchedAt: at } : {}),
        ...(newlyFailing ? { failing: decision.failing } : {}),
      },
      { fence, ifRev: doc._rev },
    );
    if (updated === null) return;
    if (switching)
      this.deps.log.info(
        { group: doc.groupName, revision: doc.revision, routing: decision.switchTo },
        "blue-green routing switched",
      );

    for (const wave of closed) {
      await this.deps.events.publish({
        type: "DEPLOYMENT_WAVE_COMPLETED",
        group: doc.groupName,
        payload: {
          groupName: doc.groupName,
          revision: doc.revision,
          wave: wave.index,
          verdict: wave.verdict,
          reason: wave.reason,
        },
      });
    }
    if (ended) await this.finish(updated, state, decision.rollbackNeeded === true, fence, at);
  }

  private async finish(
    doc: DeploymentDoc,
    state: DeploymentState,
    rollbackNeeded: boolean,
    fence: Fence,
    at: number,
  ): Promise<void> {
    const head = state === "COMPLETED" ? doc.revision : doc.previousHead;
    await this.deps.store
      .collection<DeploymentHeadDoc>(DEPLOYMENT_HEADS)
      .put({ _id: doc.groupName, revision: head }, { fence });
    this.deps.metrics?.deploymentEnded(state, (at - doc.createdAt) / 1000);
    this.deps.log.info(
      { group: doc.groupName, revision: doc.revision, outcome: state, reason: doc.reason },
      "deployment ended",
    );
    await this.deps.events.publish({
      type: "DEPLOYMENT_COMPLETED",
      group: doc.groupName,
      payload: { groupName: doc.groupName, revision: doc.revision, outcome: state },
    });
    if (state === "ROLLED_BACK") {
      await this.deps.audit?.({
        action: "deployment.auto-rollback",
        resourceId: `${doc.groupName}:${doc.revision}`,
        details: { reason: doc.reason, rollbackRevisionNeeded: rollbackNeeded },
      });
      if (rollbackNeeded) await this.deps.autoRollback?.(doc);
    }
  }
}

/** old → new for the replace actions that were actually carried out this tick. */
function appliedReplacements(outcome: RolloutOutcome, run: GroupExecution | undefined): Map<string, string> {
  const applied = new Set<string>();
  for (const o of run?.outcomes ?? []) {
    if (o.outcome === "applied" && o.action.kind === "replace") applied.add(o.action.instanceId);
  }
  const out = new Map<string, string>();
  for (const [old, id] of Object.entries(outcome.placed)) if (applied.has(id)) out.set(old, id);
  return out;
}
