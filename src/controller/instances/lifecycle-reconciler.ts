import { systemClock } from "../../core/clock.ts";
import {
  type InstanceState,
  isInstanceState,
  isTerminalState,
  stateOnReadopt,
} from "../../core/lifecycle/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { Fence } from "../../store/port.ts";
import type { InstanceReconciler } from "../nodes/instance-reconciler.ts";
import type { NodeInstanceReport } from "../nodes/node-doc.ts";
import { DEFAULT_REPAIR_LIMITS, PROCESS_UP, type RepairLimits, repairFor } from "./convergence-repairs.ts";
import type { InstanceDoc } from "./instance-doc.ts";
import type { InstanceService } from "./instance-service.ts";

const NODE_UNREACHABLE = "node unreachable";

/** States in which a process should exist on the node. SCHEDULED has not been accepted yet. */
const EXPECTED_ALIVE = new Set<InstanceState>(["PREPARING", "STARTING", "RUNNING", "DRAINING", "STOPPING"]);

export interface Redispatcher {
  /** re-sends a SCHEDULED start unless a start retry already has it in hand */
  recover(instanceId: string, fence?: Fence): Promise<boolean>;
  /** re-sends the StopInstance of a STOPPING instance the node still runs */
  resendStop(instanceId: string, force: boolean, fence?: Fence): Promise<boolean>;
  /** tells the node to stop an instance stuck before its start, and ends the record */
  stopStuck(instanceId: string, reason: string, fence?: Fence): Promise<void>;
  /** tells a node to stop a process that no live record of it accounts for */
  stopOrphan(nodeId: string, instanceId: string, group: string, reason: string): Promise<void>;
}

/**
 * What daemons report, applied through the lifecycle FSM (InstanceService.transition): illegal moves
 * are logged and dropped, applied ones publish INSTANCE_STATE_CHANGED.
 * - a reported instance the controller knows moves to the reported state; a daemon-reported RUNNING
 *   counts only for groups that do not wait for the plugin's ready call;
 * - one it does not know is adopted rather than killed: a controller that lost its records must not
 *   take players' servers down;
 * - one expected alive but not reported is gone: STOPPING becomes STOPPED, anything else CRASHED;
 * - a start or stop the node's report does not reflect is sent again, then ends in a verdict
 *   (convergence-repairs.ts);
 * - a process whose record ended is re-adopted when its node was only unreachable, and told to
 *   stop otherwise: nothing runs that nobody manages;
 * - after the grace period of an unreachable node, everything expected alive there is CRASHED.
 */
export class LifecycleReconciler implements InstanceReconciler {
  constructor(
    private readonly instances: InstanceService,
    private readonly starts: Redispatcher,
    private readonly log: Logger,
    private readonly now: () => number = systemClock.now,
    private readonly limits: RepairLimits = DEFAULT_REPAIR_LIMITS,
  ) {}

  /** when a stop was last sent for a process nobody manages, per `node/id` */
  private readonly orphanStops = new Map<string, number>();

  async reconcile(nodeId: string, reported: readonly NodeInstanceReport[], fence?: Fence): Promise<void> {
    const w = fence ? { fence } : {};
    const seen = new Map<string, NodeInstanceReport>();
    for (const report of reported) {
      seen.set(report.instanceId, report);
      await this.apply(nodeId, report, true, w);
    }
    for (const doc of await this.instances.findMany({ node: nodeId })) {
      // A report of another plan under the same id (the process a re-placed STATIC instance
      // replaced, still listed as ended) says nothing about this record's start.
      const listed = seen.get(doc._id);
      const report =
        listed && (!doc.planHash || !listed.planHash || listed.planHash === doc.planHash)
          ? listed
          : undefined;
      const reported = report && isInstanceState(report.state) ? report.state : undefined;
      await this.repair(doc, reported, w);
      if (report || !EXPECTED_ALIVE.has(doc.state)) continue;
      await this.instances.transition(
        doc._id,
        doc.state === "STOPPING" ? "STOPPED" : "CRASHED",
        "not running on the node",
        { lostAt: this.now(), lostReason: "not running on the node when it reconnected" },
        w,
      );
    }
  }

  private async repair(
    doc: InstanceDoc,
    reported: InstanceState | undefined,
    w: { fence?: Fence },
  ): Promise<void> {
    const repair = repairFor(doc, reported, this.now(), this.limits);
    switch (repair.kind) {
      case "none":
        return;
      case "redispatch":
        await this.starts.recover(doc._id, w.fence);
        return;
      case "resend-stop":
        await this.starts.resendStop(doc._id, repair.force, w.fence);
        return;
      case "stop-stuck-prepare":
        this.log.warn({ instanceId: doc._id, node: doc.node }, repair.reason);
        await this.starts.stopStuck(doc._id, repair.reason, w.fence);
        return;
      case "verdict":
        this.log.warn({ instanceId: doc._id, node: doc.node }, repair.reason);
        await this.instances.transition(
          doc._id,
          repair.state,
          repair.reason,
          { lostAt: this.now(), lostReason: repair.reason },
          w,
        );
        return;
    }
  }

  update(nodeId: string, report: NodeInstanceReport, fence?: Fence): Promise<void> {
    return this.apply(nodeId, report, false, fence ? { fence } : {});
  }

  /**
   * Deliberately unfenced: the node is disconnected, so nobody holds its session lease; the
   * liveness sweeper's compare-and-set on the node record (markInstancesLost) lets exactly one
   * controller run this per disconnection, and a session that opens meanwhile re-adopts what runs.
   */
  async nodeLost(nodeId: string): Promise<string[]> {
    const lost: string[] = [];
    for (const doc of await this.instances.findMany({ node: nodeId })) {
      if (!EXPECTED_ALIVE.has(doc.state)) continue;
      const moved = await this.instances.transition(doc._id, "CRASHED", NODE_UNREACHABLE, {
        lostAt: this.now(),
        lostReason: NODE_UNREACHABLE,
      });
      if (moved) lost.push(doc._id);
    }
    return lost;
  }

  private async apply(
    nodeId: string,
    report: NodeInstanceReport,
    readopt: boolean,
    w: { fence?: Fence },
  ): Promise<void> {
    if (!isInstanceState(report.state)) return;
    const now = this.now();
    const doc = await this.instances.get(report.instanceId);
    const fields: Partial<InstanceDoc> = {
      uptimeMs: report.uptimeMs,
      reportedAt: now,
      reportedPlayers: report.playerCount,
      ...pingFields(report, doc, now),
      ...(report.port > 0 ? { port: report.port } : {}),
    };
    if (!doc) {
      const state = readopt ? stateOnReadopt(report.state, true) : report.state;
      await this.instances.record(
        {
          _id: report.instanceId,
          group: report.group,
          node: nodeId,
          state,
          port: report.port,
          planHash: report.planHash,
          createdAt: now,
          stateChangedAt: now,
          players: report.playerCount,
          reportedPlayers: report.playerCount,
          ...pingFields(report, null, now),
          uptimeMs: report.uptimeMs,
          adoptedAt: now,
          reportedAt: now,
          reason: "adopted from the node's report",
        },
        w,
      );
      this.log.info(
        { instanceId: report.instanceId, nodeId, state },
        "adopted an instance the node reported",
      );
      return;
    }
    if (doc.node !== nodeId) {
      // The id now belongs to an instance elsewhere (reused after the record of this one was
      // pruned): this process is nobody's.
      if (PROCESS_UP.has(report.state))
        await this.stopOrphan(nodeId, doc, "its id belongs to an instance on another node");
      return;
    }
    // Two sources count players: the plugin's join/leave calls and the node's reports. Each is
    // applied when it changes, so a node that cannot see players (and reports 0 on every
    // heartbeat) never undoes what the plugin said, while one that counts still moves it.
    if (report.playerCount !== (doc.reportedPlayers ?? 0)) fields.players = report.playerCount;
    // A stale report of an older plan for the same id (a replaced static instance) changes nothing.
    if (doc.planHash && report.planHash && doc.planHash !== report.planHash) {
      if (PROCESS_UP.has(report.state))
        await this.stopOrphan(nodeId, doc, "an older plan of a replaced instance");
      return;
    }
    if (isTerminalState(doc.state) && PROCESS_UP.has(report.state)) {
      await this.cameBack(doc, report.state, fields, w);
      return;
    }
    // Both ended (a CRASHED record the node reports STOPPED): the record's end stands, and the
    // node keeps the entry only until it forgets it, so nothing is written or warned on each beat.
    if (isTerminalState(doc.state) && isTerminalState(report.state)) return;
    let target: InstanceState = report.state;
    if (target === "RUNNING" && doc.awaitPluginReady && doc.state !== "RUNNING") target = doc.state;
    // DRAINING is the controller's word for a running process: the daemon keeps reporting RUNNING.
    if (target === "RUNNING" && doc.state === "DRAINING") target = "DRAINING";
    if (target === "STARTING" && doc.startedAt == null) fields.startedAt = now - report.uptimeMs;
    if (target === doc.state) {
      await this.instances.patch(doc._id, fields, w);
      return;
    }
    await this.instances.transition(doc._id, target, `reported by node ${nodeId}`, fields, w);
  }

  /**
   * The node runs a process whose record has ended. Lost to an unreachable node: taken back.
   * Ended otherwise (stopped, crashed, replaced while the node was away): the node is told to stop
   * it, at most once per resend wait, so no workload is left running that nobody manages.
   */
  private async cameBack(
    doc: InstanceDoc,
    reported: InstanceState,
    fields: Partial<InstanceDoc>,
    w: { fence?: Fence },
  ): Promise<void> {
    if (doc.state === "CRASHED" && doc.lostReason === NODE_UNREACHABLE) {
      const state = stateOnReadopt(reported, true);
      await this.instances.readopt(
        doc._id,
        state,
        "re-adopted: its node came back with it running",
        fields,
        w,
      );
      return;
    }
    await this.stopOrphan(doc.node, doc, `its record is ${doc.state}`);
  }

  /** At most one stop per resend wait for each (node, id); the map forgets entries past a minute. */
  private async stopOrphan(nodeId: string, doc: InstanceDoc, why: string): Promise<void> {
    const instanceId = doc._id;
    const key = `${nodeId}/${instanceId}`;
    const now = this.now();
    if (now - (this.orphanStops.get(key) ?? 0) < this.limits.resendAfterMs) return;
    for (const [k, at] of this.orphanStops) if (now - at > 60_000) this.orphanStops.delete(k);
    this.orphanStops.set(key, now);
    this.log.warn({ instanceId, nodeId, why }, "the node runs a process nobody manages; telling it to stop");
    await this.starts.stopOrphan(nodeId, instanceId, doc.group, why);
  }
}

/**
 * Slot limit and sample as the node's ping saw them (a node that sends neither clears them), with
 * the time each sampled player was first seen: kept from the previous record while they stay.
 */
function pingFields(
  report: NodeInstanceReport,
  previous: InstanceDoc | null,
  now: number,
): Pick<InstanceDoc, "maxPlayers" | "playerSample" | "playerSampleIds" | "playerSampleSince"> {
  const names = report.playerSample ?? [];
  const ids = names.map((_, i) => report.playerSampleIds?.[i] ?? "");
  const since = names.map((name, i) => {
    const at = previous?.playerSample?.findIndex(
      (old, j) => old === name && (previous.playerSampleIds?.[j] ?? "") === ids[i],
    );
    return at !== undefined && at >= 0 ? (previous?.playerSampleSince?.[at] ?? now) : now;
  });
  return {
    maxPlayers: report.maxPlayers ?? 0,
    playerSample: names,
    playerSampleIds: ids,
    playerSampleSince: since,
  };
}
