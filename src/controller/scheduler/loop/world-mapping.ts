import type { GroupSpec } from "../../../core/groups/group-schema.ts";
import { isInstanceState } from "../../../core/lifecycle/index.ts";
import type { LinkInstanceDoc } from "../../nodes/instance-reconciler.ts";
import type { NodeDoc, NodeInstanceReport } from "../../nodes/node-doc.ts";
import type { SchedGroup, SchedInstance, SchedNode } from "../types.ts";

/**
 * Fields of an `instances` document the loop reads beyond what the daemon link writes. The lifecycle
 * owns the document; every field here is optional so a record adopted from a daemon (which has none of
 * them) still maps.
 */
export interface SchedulerInstanceDoc extends LinkInstanceDoc {
  memoryMb?: number;
  /** epoch ms the process started (RUNNING); gates scale-down by uptime */
  startedAt?: number | null;
  createdAt?: number;
  /** the instance a drain replacement takes over from; written by the loop after placing it */
  replaces?: string;
  /** the deployment revision the instance was placed at (absent: before any deployment) */
  deploymentRevision?: number;
  stateChangedAt?: number;
}

/** The raw group document fields the loop reads that are not part of the operator's spec. */
export interface GroupRuntimeFields {
  /** set by the crash-loop detector; absent or in the past means not paused */
  crashLoopPausedUntil?: number;
  /** a PERMANENT plan/start failure's reason (group_pauses); lasts until `group resume` */
  failurePause?: string;
}

export function toSchedGroup(spec: GroupSpec, runtime: GroupRuntimeFields, now: number): SchedGroup {
  const pausedUntil = runtime.crashLoopPausedUntil;
  return {
    name: spec.name,
    // `static: true` predates scalingMode upstream; either one makes the group STATIC.
    scalingMode: spec.static
      ? "STATIC"
      : spec.scalingMode === "STATIC"
        ? "STATIC"
        : spec.scalingMode === "MANUAL"
          ? "MANUAL"
          : "DYNAMIC",
    minInstances: spec.minInstances,
    maxInstances: spec.maxInstances,
    maxPlayers: spec.maxPlayers,
    scaleUpThreshold: spec.scaleUpThreshold,
    scaleDownAfterSeconds: spec.scaleDownAfterSeconds,
    scaleCooldownSeconds: spec.scaleCooldownSeconds,
    memoryMb: spec.memoryMb,
    cpuReservation: spec.cpuReservation,
    diskReservationMb: spec.diskReservationMb,
    portRangeStart: spec.portRangeStart,
    portRangeEnd: spec.portRangeEnd,
    priority: spec.priority,
    startupWeight: spec.startupWeight,
    dependsOn: spec.dependsOn,
    nodeAffinity: spec.nodeAffinity,
    nodeAntiAffinity: spec.nodeAntiAffinity,
    spreadConstraint: spec.spreadConstraint,
    staticInstanceNames: spec.staticInstanceNames,
    maintenance: spec.maintenance,
    paused: runtime.failurePause !== undefined || (typeof pausedUntil === "number" && pausedUntil > now),
    ...(runtime.failurePause !== undefined ? { pauseReason: `paused: ${runtime.failurePause}` } : {}),
  };
}

export function toSchedNode(doc: NodeDoc): SchedNode {
  const cap = doc.capacity;
  return {
    id: doc._id,
    state: doc.state,
    cordoned: doc.cordoned,
    totalMemoryMb: cap.totalMemoryMb,
    usedMemoryMb: cap.usedMemoryMb,
    cpuUsage: cap.cpuUsage,
    // A daemon that reports no disk sends zero totals; disk reservations are then not checked.
    ...(cap.totalDiskMb > 0 ? { freeDiskMb: cap.freeDiskMb } : {}),
    labels: doc.labels,
    usedPorts: doc.usedPorts,
    ...(doc.drain ? { drainDeadlineAt: doc.drain.deadlineAt, drainKickMessage: doc.drain.kickMessage } : {}),
  };
}

/**
 * An instance record as the scheduler sees it. Players are the record's counter (plugins and daemon
 * reports both write it); memory falls back to the group's request; the start time to the daemon's
 * reported uptime, then the record's creation, then `now` (a young instance is never
 * scaled down, which is the safe side when nothing is known).
 */
export function toSchedInstance(
  doc: SchedulerInstanceDoc,
  groupMemoryMb: number | undefined,
  report: NodeInstanceReport | undefined,
  now: number,
): SchedInstance | undefined {
  if (!isInstanceState(doc.state)) return undefined;
  const startedAt =
    doc.startedAt ??
    (report !== undefined && report.uptimeMs > 0 ? now - report.uptimeMs : undefined) ??
    doc.createdAt ??
    now;
  return {
    id: doc._id,
    group: doc.group,
    node: doc.node,
    state: doc.state,
    port: doc.port,
    players: doc.players ?? report?.playerCount ?? 0,
    memoryMb: doc.memoryMb ?? groupMemoryMb ?? 0,
    startedAt,
    ...(doc.replaces !== undefined ? { replaces: doc.replaces } : {}),
    ...(doc.deploymentRevision !== undefined ? { revision: doc.deploymentRevision } : {}),
    ...(doc.createdAt !== undefined ? { createdAt: doc.createdAt } : {}),
    ...(doc.state === "RUNNING" && doc.stateChangedAt !== undefined
      ? { runningSince: doc.stateChangedAt }
      : {}),
    ...(doc.state === "DRAINING" && doc.stateChangedAt !== undefined
      ? { drainingSince: doc.stateChangedAt }
      : {}),
    // ended by the loss of its node, not by its own crash (the lifecycle stamps lostAt)
    ...(doc.lostAt !== undefined ? { lost: true } : {}),
  };
}
