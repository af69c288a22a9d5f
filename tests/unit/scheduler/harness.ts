/**
 * Scenario harness for the pure scheduler: worlds are plain data, `apply` plays a tick's actions the way
 * the controller would write them, `settle` plays the daemons (starts finish, heartbeats refresh), and
 * the invariant checks read the world back. Nothing sleeps; time moves only through `advance`.
 */
import { schedGroup, scheduleTick } from "../../../src/controller/scheduler/index.ts";
import type {
  Action,
  ScaleRequest,
  SchedGroup,
  SchedInstance,
  SchedNode,
  SchedulerSettings,
  StartRequest,
  TickResult,
} from "../../../src/controller/scheduler/types.ts";

export const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

export interface World {
  now: number;
  groups: SchedGroup[];
  nodes: SchedNode[];
  instances: SchedInstance[];
  lastScaleAt: Record<string, number>;
  startRequests: StartRequest[];
  scaleRequests: ScaleRequest[];
  globalMaintenance: boolean;
  playerCounts?: Record<string, number>;
  settings: Partial<SchedulerSettings>;
  /** Memory the host itself uses per node; `settle` reports it plus the running instances as heartbeat. */
  hostMemoryMb: Record<string, number>;
}

export function group(name: string, fields: Partial<SchedGroup> = {}): SchedGroup {
  return schedGroup({ name, ...fields });
}

export function node(id: string, fields: Partial<SchedNode> = {}): SchedNode {
  return {
    id,
    state: "ONLINE",
    cordoned: false,
    totalMemoryMb: 16_384,
    usedMemoryMb: 0,
    cpuUsage: 0,
    labels: {},
    usedPorts: [],
    ...fields,
  };
}

/** A RUNNING instance up for an hour, unless told otherwise. */
export function instance(
  id: string,
  groupName: string,
  nodeId: string,
  fields: Partial<SchedInstance> = {},
): SchedInstance {
  return {
    id,
    group: groupName,
    node: nodeId,
    state: "RUNNING",
    port: 30000,
    players: 0,
    memoryMb: 1024,
    startedAt: T0 - HOUR,
    ...fields,
  };
}

export function world(parts: Partial<World> = {}): World {
  return {
    now: T0,
    groups: [],
    nodes: [],
    instances: [],
    lastScaleAt: {},
    startRequests: [],
    scaleRequests: [],
    globalMaintenance: false,
    settings: {},
    hostMemoryMb: {},
    ...parts,
  };
}

export function tick(w: World): TickResult {
  return scheduleTick(w);
}

export function ofKind<K extends Action["kind"]>(
  result: TickResult,
  kind: K,
): Extract<Action, { kind: K }>[] {
  return result.actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);
}

export function diagnostic(result: TickResult, groupName: string) {
  const d = result.groups.find((g) => g.group === groupName);
  if (d === undefined) throw new Error(`no diagnostic for ${groupName}`);
  return d;
}

/**
 * The controller's side of a tick: new instances are written SCHEDULED, stops become STOPPED, drains
 * DRAINING, cooldowns
 * are stamped and requests are consumed. Records already terminal before this tick are cleaned up.
 */
export function apply(w: World, result: TickResult): World {
  const stopped = new Set(ofKind(result, "stop").map((a) => a.instance));
  const drained = new Set(ofKind(result, "drain").map((a) => a.instance));
  const instances = w.instances
    .filter((i) => i.state !== "STOPPED" && i.state !== "CRASHED")
    .map((i) =>
      stopped.has(i.id)
        ? { ...i, state: "STOPPED" as const, players: 0 }
        : drained.has(i.id)
          ? { ...i, state: "DRAINING" as const }
          : i,
    );
  for (const a of result.actions) {
    if (a.kind !== "place" && a.kind !== "replace") continue;
    instances.push({
      id: a.instanceId,
      group: a.group,
      node: a.node,
      state: "SCHEDULED",
      port: a.port,
      players: 0,
      memoryMb: a.memoryMb,
      startedAt: w.now,
      ...(a.kind === "replace" ? { replaces: a.instance } : {}),
    });
  }
  const lastScaleAt = { ...w.lastScaleAt };
  for (const g of result.cooldownStamps) lastScaleAt[g] = w.now;
  return { ...w, instances, lastScaleAt, startRequests: [], scaleRequests: [] };
}

/** The daemons' side: pending starts reach RUNNING and every heartbeat reports the memory in use. */
export function settle(w: World): World {
  const instances = w.instances.map((i) =>
    i.state === "SCHEDULED" || i.state === "PREPARING" || i.state === "STARTING"
      ? { ...i, state: "RUNNING" as const, startedAt: w.now }
      : i,
  );
  const running = new Map<string, number>();
  for (const i of instances) {
    if (i.state === "STOPPED" || i.state === "CRASHED") continue;
    running.set(i.node, (running.get(i.node) ?? 0) + i.memoryMb);
  }
  const nodes = w.nodes.map((n) => ({
    ...n,
    usedMemoryMb: (w.hostMemoryMb[n.id] ?? 0) + (running.get(n.id) ?? 0),
  }));
  return { ...w, instances, nodes };
}

export function advance(w: World, ms: number): World {
  return { ...w, now: w.now + ms };
}

export function changesSomething(result: TickResult): boolean {
  return result.actions.some(
    (a) => a.kind === "place" || a.kind === "replace" || a.kind === "stop" || a.kind === "drain",
  );
}

export interface Run {
  readonly world: World;
  readonly ticks: number;
  readonly results: TickResult[];
}

/**
 * Tick, apply, settle and advance 15 s until a tick changes nothing. `check` runs on the world right
 * after each apply (before the daemons settle), where over-commit would show first.
 */
export function runUntilStable(
  start: World,
  options: { maxTicks?: number; check?: (w: World) => void } = {},
): Run {
  const maxTicks = options.maxTicks ?? 50;
  let w = start;
  const results: TickResult[] = [];
  for (let t = 1; t <= maxTicks; t++) {
    const result = tick(w);
    results.push(result);
    if (!changesSomething(result)) return { world: w, ticks: t, results };
    w = apply(w, result);
    options.check?.(w);
    w = advance(settle(w), 15_000);
  }
  throw new Error(`no convergence within ${maxTicks} ticks`);
}

export function live(w: World): SchedInstance[] {
  return w.instances.filter((i) => i.state !== "STOPPED" && i.state !== "CRASHED");
}

export function liveOf(w: World, groupName: string): SchedInstance[] {
  return live(w).filter((i) => i.group === groupName);
}

/** Two live instances on one port of one node, or an instance on a port the node reports busy. */
export function portCollisions(w: World): string[] {
  const seen = new Map<string, string>();
  const busy = new Map(w.nodes.map((n) => [n.id, new Set(n.usedPorts)]));
  const out: string[] = [];
  for (const i of live(w)) {
    const key = `${i.node}:${i.port}`;
    const other = seen.get(key);
    if (other !== undefined) out.push(`${i.id} and ${other} share ${key}`);
    seen.set(key, i.id);
    if (busy.get(i.node)?.has(i.port)) out.push(`${i.id} on busy port ${key}`);
  }
  return out;
}

/** Nodes whose host memory plus every live reservation exceeds what they advertise. */
export function memoryOvercommit(w: World): string[] {
  const reserved = new Map<string, number>();
  for (const i of live(w)) reserved.set(i.node, (reserved.get(i.node) ?? 0) + i.memoryMb);
  const headroom = w.settings.memoryHeadroomMb ?? 0;
  const out: string[] = [];
  for (const n of w.nodes) {
    const used = (w.hostMemoryMb[n.id] ?? 0) + (reserved.get(n.id) ?? 0) + headroom;
    if (used > n.totalMemoryMb) out.push(`${n.id}: ${used} MB of ${n.totalMemoryMb} MB`);
  }
  return out;
}

/** Whether a label selector (`k=v` or `k`) matches, written independently of the scheduler's own parser. */
function hasLabel(labels: Readonly<Record<string, string>>, selector: string): boolean {
  const [key, value] = selector.split("=", 2) as [string, string | undefined];
  return value === undefined ? key in labels : labels[key] === value;
}

/** Instances placed in the last tick (still SCHEDULED) on a node they must not be on. */
export function placementViolations(w: World): string[] {
  const nodes = new Map(w.nodes.map((n) => [n.id, n]));
  const groups = new Map(w.groups.map((g) => [g.name, g]));
  const out: string[] = [];
  for (const i of live(w)) {
    if (i.state !== "SCHEDULED") continue;
    const n = nodes.get(i.node);
    const g = groups.get(i.group);
    if (n === undefined || g === undefined) {
      out.push(`${i.id}: unknown node or group`);
      continue;
    }
    if (n.state !== "ONLINE" || n.cordoned)
      out.push(`${i.id} placed on ${n.id} (${n.state}, cordoned=${n.cordoned})`);
    if (i.port < g.portRangeStart || i.port > g.portRangeEnd)
      out.push(`${i.id} got port ${i.port} outside its range`);
    for (const s of g.nodeAffinity) if (!hasLabel(n.labels, s)) out.push(`${i.id} on ${n.id} lacks '${s}'`);
    for (const s of g.nodeAntiAffinity) if (hasLabel(n.labels, s)) out.push(`${i.id} on ${n.id} has '${s}'`);
  }
  return out;
}
