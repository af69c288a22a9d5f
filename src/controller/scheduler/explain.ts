import { AppError } from "../../core/errors.ts";
import { Capacity } from "./capacity.ts";
import { resolveSettings } from "./defaults.ts";
import { compileDemand, rejectionFor } from "./feasibility.ts";
import { FleetIndex } from "./fleet-index.ts";
import { holdFor } from "./holds.ts";
import { cycleReason, evaluationOrder } from "./order.ts";
import { SpreadTracker, scoreBreakdown } from "./ranking.ts";
import type { NodeCandidate, NodeRejection, PlacementExplanation, TickInput } from "./types.ts";

/**
 * Why each node would or would not take the group's next instance, judged on the input as it stands
 * (before the tick places anything): every node is either a candidate with its score and port, or
 * rejected with the first rule it breaks. `skip` tells when the group would not place at all.
 */
export function explainPlacement(groupName: string, input: TickInput): PlacementExplanation {
  const index = new FleetIndex(input);
  const group = index.groups.get(groupName);
  if (group === undefined)
    throw new AppError("NOT_FOUND", `group ${groupName} not found`, { group: groupName });
  const settings = resolveSettings(input.settings);
  const cap = Capacity.build(index, input.instances);
  const demand = compileDemand(group);
  const spread = SpreadTracker.of(cap, demand.spreadKey, index.instancesOf(groupName).settled);

  const candidates: NodeCandidate[] = [];
  const rejected: NodeRejection[] = [];
  for (let i = 0; i < cap.size; i++) {
    const rejection = rejectionFor(cap, i, demand, settings);
    if (rejection !== undefined) {
      rejected.push(rejection);
      continue;
    }
    const port = cap.ports.firstFree(i, group.portRangeStart, group.portRangeEnd);
    candidates.push({ node: cap.node(i).id, port, score: scoreBreakdown(cap, i, group, spread) });
  }
  // Stable sort over ID-ordered nodes: equal scores keep the ID order the placer breaks ties with.
  candidates.sort((a, b) => b.score.total - a.score.total);

  const { cyclic } = evaluationOrder([...index.groups.values()]);
  const cycle = cyclic.some((g) => g.name === groupName) ? cycleReason(cyclic) : undefined;
  const hold = holdFor(group, index, input.globalMaintenance === true, cycle);
  const requested = index.requestedStarts.has(groupName) || index.scaleTargets.has(groupName);
  const manual = group.scalingMode === "MANUAL" && !requested ? "manual scaling" : undefined;
  const skip = hold?.reason ?? manual;
  return { group: groupName, ...(skip === undefined ? {} : { skip }), candidates, rejected };
}
