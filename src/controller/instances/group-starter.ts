import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import { TERMINAL_STATES } from "../../core/lifecycle/index.ts";
import type { CrashLoopGuard } from "../crashes/crash-loop-guard.ts";
import type { GroupService } from "../groups/group-service.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";
import type { NodeDoc } from "../nodes/node-doc.ts";
import type { NodeService } from "../nodes/node-service.ts";
import {
  type PlaceAction,
  type SchedInstance,
  type SchedNode,
  schedGroup,
  scheduleTick,
} from "../scheduler/index.ts";
import type { InstanceLifecycle } from "./instance-lifecycle.ts";
import type { InstanceService } from "./instance-service.ts";

/**
 * `POST /groups/{name}/start?count=`: one pure scheduler pass with a start request for this group,
 * against the whole fleet (so ports and capacity are shared with everything already placed), and the
 * resulting placements handed to the lifecycle under the group's lease. Works for MANUAL groups and
 * without the scheduler loop running.
 */
export class GroupStarter {
  constructor(
    private readonly deps: {
      nodes: Pick<NodeService, "all">;
      groups: GroupService;
      instances: InstanceService;
      lifecycle: InstanceLifecycle;
      crashLoops: CrashLoopGuard;
      lease: LeaseGateOptions;
      now?: () => number;
    },
  ) {}

  async start(name: string, count: number): Promise<PlaceAction[]> {
    const { deps } = this;
    const group = await deps.groups.resolved(name);
    if (await deps.crashLoops.isPaused(name)) {
      throw new AppError(
        "CONFLICT",
        `group "${name}" is paused after a crash loop; it resumes after its cooldown`,
      );
    }
    return withLease(deps.lease, `group:${name}`, async (fence) => {
      const nodes = await deps.nodes.all({ connected: true });
      const live = await deps.instances.findMany({ state: { $nin: [...TERMINAL_STATES] } });
      const result = scheduleTick({
        now: (deps.now ?? systemClock.now)(),
        groups: [
          schedGroup({
            name,
            // Only this request places: the loop owns floors and load scaling.
            scalingMode: "MANUAL",
            minInstances: 0,
            maxInstances: group.maxInstances,
            maxPlayers: group.maxPlayers,
            memoryMb: group.memoryMb,
            cpuReservation: group.cpuReservation,
            diskReservationMb: group.diskReservationMb,
            portRangeStart: group.portRangeStart,
            portRangeEnd: group.portRangeEnd,
            nodeAffinity: group.nodeAffinity,
            nodeAntiAffinity: group.nodeAntiAffinity,
            spreadConstraint: group.spreadConstraint,
          }),
        ],
        nodes: nodes.map(toSchedNode),
        instances: live.map(
          (i): SchedInstance => ({
            id: i._id,
            group: i.group,
            node: i.node,
            state: i.state,
            port: i.port,
            players: i.players ?? 0,
            memoryMb: i.group === name ? group.memoryMb : 0,
            startedAt: i.startedAt ?? i.createdAt,
          }),
        ),
        startRequests: [{ group: name, count }],
      });
      const places = result.actions.filter((a): a is PlaceAction => a.kind === "place" && a.group === name);
      if (places.length === 0) {
        const why = result.groups.find((g) => g.group === name);
        throw new AppError(
          "CONFLICT",
          `no instance of "${name}" could be placed: ${why?.reason ?? "no eligible node"}`,
        );
      }
      // The scheduler saw only live instances; ended ones keep their ids until cleanup, so skip those.
      const taken = new Set((await deps.instances.findMany({ group: name })).map((i) => i._id));
      for (const [index, action] of places.entries()) {
        let instanceId = action.instanceId;
        if (taken.has(instanceId)) instanceId = nextFreeId(name, taken);
        taken.add(instanceId);
        places[index] = { ...action, instanceId };
        await deps.lifecycle.place({
          instanceId,
          group: name,
          node: action.node,
          port: action.port,
          fence,
          reason: action.reason,
        });
      }
      return places;
    });
  }
}

/** `{group}-{N}` with the lowest N no record uses. */
function nextFreeId(group: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) if (!taken.has(`${group}-${n}`)) return `${group}-${n}`;
}

function toSchedNode(node: NodeDoc): SchedNode {
  return {
    id: node._id,
    state: node.state,
    cordoned: node.cordoned,
    totalMemoryMb: node.capacity.totalMemoryMb,
    usedMemoryMb: node.capacity.usedMemoryMb,
    cpuUsage: node.capacity.cpuUsage,
    ...(node.capacity.totalDiskMb > 0 ? { freeDiskMb: node.capacity.freeDiskMb } : {}),
    labels: node.labels,
    usedPorts: node.usedPorts,
    ...(node.drain ? { drainDeadlineAt: node.drain.deadlineAt } : {}),
  };
}
