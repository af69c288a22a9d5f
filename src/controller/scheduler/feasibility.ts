import type { Capacity } from "./capacity.ts";
import {
  type LabelSelector,
  matchedAntiAffinity,
  missingAffinity,
  parseSelector,
  spreadKey,
} from "./labels.ts";
import type { NodeRejection, SchedGroup, SchedNode, SchedulerSettings } from "./types.ts";

/** A group's placement constraints, parsed once per tick. */
export interface Demand {
  readonly group: SchedGroup;
  readonly affinity: readonly LabelSelector[];
  readonly antiAffinity: readonly LabelSelector[];
  /** Groups with equal label constraints share one list of label-eligible nodes. */
  readonly labelSignature: string;
  readonly spreadKey: string;
}

export function compileDemand(group: SchedGroup): Demand {
  return {
    group,
    affinity: group.nodeAffinity.map(parseSelector),
    antiAffinity: group.nodeAntiAffinity.map(parseSelector),
    labelSignature:
      group.nodeAffinity.length === 0 && group.nodeAntiAffinity.length === 0
        ? ""
        : `${group.nodeAffinity.join("\n")}\u0000${group.nodeAntiAffinity.join("\n")}`,
    spreadKey: spreadKey(group.spreadConstraint),
  };
}

/** Takes placements at all, whatever the group. */
export function isSchedulable(node: SchedNode): boolean {
  return node.state === "ONLINE" && !node.cordoned;
}

/** Status, cordon and labels: facts that do not change while a tick places instances. */
export function passesStaticChecks(demand: Demand, node: SchedNode): boolean {
  return (
    isSchedulable(node) &&
    missingAffinity(demand.affinity, node.labels) === undefined &&
    matchedAntiAffinity(demand.antiAffinity, node.labels) === undefined
  );
}

/** Memory, CPU and disk against what the node has committed so far in this tick. */
export function fitsResources(
  cap: Capacity,
  i: number,
  group: SchedGroup,
  settings: SchedulerSettings,
): boolean {
  const total = cap.node(i).totalMemoryMb;
  if ((cap.memoryCommitted[i] ?? 0) + group.memoryMb + settings.memoryHeadroomMb > total) return false;
  if ((cap.cpuCommitted[i] ?? 0) + group.cpuReservation > settings.cpuHardLimit) return false;
  return group.diskReservationMb <= 0 || (cap.diskFree[i] ?? 0) - group.diskReservationMb >= 0;
}

/**
 * The first rule the node breaks for this group, in the documented order (status, memory, CPU, disk,
 * ports, affinity, anti-affinity), or undefined when the node is eligible. Only diagnostics build these
 * strings; the placement loop uses the boolean checks above.
 */
export function rejectionFor(
  cap: Capacity,
  i: number,
  demand: Demand,
  settings: SchedulerSettings,
): NodeRejection | undefined {
  const node = cap.node(i);
  const group = demand.group;
  const reject = (code: NodeRejection["code"], reason: string): NodeRejection => ({
    node: node.id,
    code,
    reason,
  });
  if (node.state !== "ONLINE") return reject("NOT_ONLINE", `not ONLINE (status=${node.state})`);
  if (node.cordoned) return reject("CORDONED", "cordoned");
  const free = node.totalMemoryMb - (cap.memoryCommitted[i] ?? 0);
  if (free < group.memoryMb + settings.memoryHeadroomMb) {
    const headroom = settings.memoryHeadroomMb > 0 ? ` + ${settings.memoryHeadroomMb} MB headroom` : "";
    return reject("MEMORY", `insufficient memory (need ${group.memoryMb} MB${headroom}, free ${free} MB)`);
  }
  const cpu = cap.cpuCommitted[i] ?? 0;
  if (cpu + group.cpuReservation > settings.cpuHardLimit) {
    return reject(
      "CPU",
      `insufficient CPU (${cpu.toFixed(2)} used + ${group.cpuReservation.toFixed(2)} > ${settings.cpuHardLimit})`,
    );
  }
  const disk = cap.diskFree[i] ?? 0;
  if (group.diskReservationMb > 0 && disk - group.diskReservationMb < 0) {
    return reject("DISK", `insufficient disk (need ${group.diskReservationMb} MB, free ${disk} MB)`);
  }
  if (cap.ports.firstFree(i, group.portRangeStart, group.portRangeEnd) < 0) {
    const size = Math.max(0, group.portRangeEnd - group.portRangeStart + 1);
    const used = cap.ports.usedCount(i, group.portRangeStart, group.portRangeEnd);
    return reject(
      "PORTS",
      `no free port in range ${group.portRangeStart}-${group.portRangeEnd} (${used} of ${size} used)`,
    );
  }
  const missing = missingAffinity(demand.affinity, node.labels);
  if (missing !== undefined) return reject("AFFINITY", `missing required affinity label '${missing.text}'`);
  const excluded = matchedAntiAffinity(demand.antiAffinity, node.labels);
  if (excluded !== undefined)
    return reject("ANTI_AFFINITY", `excluded by anti-affinity label '${excluded.text}'`);
  return undefined;
}

export function rejectionsFor(cap: Capacity, demand: Demand, settings: SchedulerSettings): NodeRejection[] {
  const out: NodeRejection[] = [];
  for (let i = 0; i < cap.size; i++) {
    const r = rejectionFor(cap, i, demand, settings);
    if (r !== undefined) out.push(r);
  }
  return out;
}
