import type { GroupStatus, SchedGroup } from "./types.ts";

/** A group's counts after this tick's drain decisions. */
export interface GroupLoad {
  /** Instances counted against min/max (placed, starting or running). */
  readonly active: number;
  readonly running: number;
  /** Σ players on RUNNING instances. */
  readonly players: number;
  /** Some RUNNING instance reports 0 < tps1m < floor. */
  readonly tpsDegraded: boolean;
}

export interface ScalingContext {
  readonly onCooldownUntil: number | undefined;
  readonly requestedStarts: number;
  readonly scaleTarget: number | undefined;
}

export interface ScaleDecision {
  /** Missing below the floor: placed regardless of cooldown and load. */
  readonly floorAdd: number;
  /** Placed on behalf of start or scale requests. */
  readonly requestAdd: number;
  /** Placed because of load; stamps the cooldown when any is placed. */
  readonly loadAdd: number;
  /** Active instances over the group's bound; only empty ones may be stopped. */
  readonly excess: number;
  /** DYNAMIC may stop one idle instance (the caller picks it; stamps the cooldown). */
  readonly scaleDownOne: boolean;
  readonly desired: number;
  readonly status: GroupStatus;
  readonly reason: string;
}

type Change = Partial<Pick<ScaleDecision, "floorAdd" | "requestAdd" | "loadAdd" | "excess" | "scaleDownOne">>;

function verdict(desired: number, status: GroupStatus, reason: string, change: Change = {}): ScaleDecision {
  return {
    floorAdd: change.floorAdd ?? 0,
    requestAdd: change.requestAdd ?? 0,
    loadAdd: change.loadAdd ?? 0,
    excess: change.excess ?? 0,
    scaleDownOne: change.scaleDownOne ?? false,
    desired,
    status,
    reason,
  };
}

/** Write-time validation forbids min > max; read defensively anyway so a bad record cannot scale wildly. */
export function bounds(group: SchedGroup): { min: number; max: number } {
  const min = Math.max(0, Math.floor(group.minInstances));
  return { min, max: Math.max(min, Math.floor(group.maxInstances)) };
}

export function decideScaling(group: SchedGroup, load: GroupLoad, ctx: ScalingContext): ScaleDecision {
  switch (group.scalingMode) {
    case "STATIC":
      return decideStatic(group, load);
    case "MANUAL":
      return decideManual(group, load, ctx);
    default:
      return decideDynamic(group, load, ctx);
  }
}

function decideStatic(group: SchedGroup, load: GroupLoad): ScaleDecision {
  const { min } = bounds(group);
  const active = load.active;
  if (active < min) {
    return verdict(min, "ok", `below STATIC count (${active}/${min})`, { floorAdd: min - active });
  }
  if (active > min) {
    return verdict(min, "ok", `above STATIC count (${active}/${min})`, { excess: active - min });
  }
  return verdict(min, "ok", `at STATIC count (${min})`);
}

function decideManual(group: SchedGroup, load: GroupLoad, ctx: ScalingContext): ScaleDecision {
  const { min, max } = bounds(group);
  const active = load.active;
  if (ctx.scaleTarget !== undefined) {
    const target = Math.min(max, Math.max(min, Math.floor(ctx.scaleTarget)));
    const change = { requestAdd: Math.max(0, target - active), excess: Math.max(0, active - target) };
    return verdict(target, "ok", `manual scale to ${target} (${active} active)`, change);
  }
  const requestAdd = Math.max(0, Math.min(ctx.requestedStarts, max - active));
  if (requestAdd > 0)
    return verdict(active + requestAdd, "ok", `manual start of ${requestAdd}`, { requestAdd });
  if (ctx.requestedStarts > 0)
    return verdict(active, "manual", `manual start refused: at maxInstances (${max})`);
  return verdict(active, "manual", "manual scaling");
}

function decideDynamic(group: SchedGroup, load: GroupLoad, ctx: ScalingContext): ScaleDecision {
  const { min, max } = bounds(group);
  const active = load.active;
  if (active > max) return verdict(max, "ok", `above maximum (${active}/${max})`, { excess: active - max });

  const floorAdd = Math.max(0, min - active);
  const requestAdd = Math.max(0, Math.min(ctx.requestedStarts, max - active - floorAdd));
  if (floorAdd > 0 || requestAdd > 0) {
    // Load is measured again next tick, once the group is back at a size the operator asked for.
    const reason = floorAdd > 0 ? `below minimum (${active}/${min})` : `manual start of ${requestAdd}`;
    return verdict(active + floorAdd + requestAdd, "ok", reason, { floorAdd, requestAdd });
  }
  if (ctx.onCooldownUntil !== undefined) {
    return verdict(active, "cooldown", `on cooldown until ${new Date(ctx.onCooldownUntil).toISOString()}`);
  }
  if (load.running === 0) return verdict(active, "ok", "no RUNNING instances to measure load");

  const utilization = load.players / (load.running * group.maxPlayers);
  const loadHigh = utilization >= group.scaleUpThreshold;
  const inFlight = active - load.running;
  if (loadHigh || load.tpsDegraded) {
    const wanted = loadHigh
      ? Math.max(1, Math.ceil(load.players / (group.scaleUpThreshold * group.maxPlayers)) - load.running)
      : 1;
    // Starts already in flight are capacity on its way; without this, every tick during a slow start
    // would add the same instances again.
    const loadAdd = Math.max(0, Math.min(wanted - inFlight, max - active));
    const why = loadHigh
      ? `utilisation ${utilization.toFixed(2)} ≥ ${group.scaleUpThreshold}`
      : "TPS degraded";
    const reason =
      loadAdd > 0
        ? `${why}: adding ${loadAdd}`
        : active >= max
          ? `${why} but at maximum (${max})`
          : `${why}; ${inFlight} start(s) in flight`;
    return verdict(active + loadAdd, "ok", reason, { loadAdd });
  }

  if (active > min) {
    // Only when the remaining instances would still sit below the threshold; otherwise the next tick
    // would scale straight back up.
    const after = load.running - 1;
    const fits =
      load.players === 0 || (after > 0 && load.players / (after * group.maxPlayers) < group.scaleUpThreshold);
    if (fits) {
      const reason = `utilisation ${utilization.toFixed(2)} below ${group.scaleUpThreshold}`;
      return verdict(active - 1, "ok", reason, { scaleDownOne: true });
    }
  }
  return verdict(active, "ok", `steady (utilisation ${utilization.toFixed(2)})`);
}
