import { Capacity } from "./capacity.ts";
import { resolveSettings } from "./defaults.ts";
import { evaluateGroup } from "./evaluate-group.ts";
import { FleetIndex } from "./fleet-index.ts";
import { holdFor } from "./holds.ts";
import { InstanceIds } from "./instance-ids.ts";
import { describeNodes } from "./node-diagnostics.ts";
import { cycleReason, evaluationOrder } from "./order.ts";
import { Placer } from "./placement.ts";
import { rolloutsOf } from "./rollout-step.ts";
import type { TickState } from "./tick-state.ts";
import type { GroupDiagnostic, TickInput, TickResult } from "./types.ts";

/**
 * One scheduler tick: every group in dependency order (tiers, then priority) gets its drain, floor,
 * request and load decisions, placed against capacity that shrinks with each placement. Pure: the same
 * input always yields the same result, and nothing outside the returned value is touched.
 */
export function scheduleTick(input: TickInput): TickResult {
  const settings = resolveSettings(input.settings);
  const index = new FleetIndex(input);
  const capacity = Capacity.build(index, input.instances);
  const state: TickState = {
    now: input.now,
    settings,
    index,
    capacity,
    placer: new Placer(capacity, settings),
    ids: new InstanceIds(index),
    lastScaleAt: input.lastScaleAt ?? {},
    actions: [],
    cooldownStamps: [],
    requestsServed: {},
    rollouts: rolloutsOf(input, index),
    rolloutOutcomes: [],
  };
  const globalMaintenance = input.globalMaintenance === true;

  const order = evaluationOrder([...index.groups.values()]);
  const groups: GroupDiagnostic[] = [];
  order.tiers.forEach((tier, t) => {
    for (const g of tier)
      groups.push(evaluateGroup(state, g, t, holdFor(g, index, globalMaintenance, undefined)));
  });
  if (order.cyclic.length > 0) {
    const reason = cycleReason(order.cyclic);
    const tier = order.tiers.length;
    for (const g of order.cyclic)
      groups.push(evaluateGroup(state, g, tier, holdFor(g, index, globalMaintenance, reason)));
  }

  for (const [group, { live }] of index.byGroup) {
    if (index.groups.has(group)) continue;
    for (const inst of live) {
      if (inst.state === "STOPPING") continue;
      const reason = `group ${group} no longer exists`;
      state.actions.push({ kind: "stop", group, instance: inst.id, node: inst.node, reason });
    }
  }

  return {
    actions: state.actions,
    groups,
    nodes: describeNodes(capacity, settings),
    cooldownStamps: state.cooldownStamps,
    requestsServed: state.requestsServed,
    rollouts: state.rolloutOutcomes,
  };
}
