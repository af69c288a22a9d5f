/**
 * A scheduler loop over a real embedded store and in-memory coordination, with a fake clock and a
 * recording instance lifecycle that writes the records the real one would (SCHEDULED on place, STOPPING
 * on stop, both fenced), so the loop's next tick sees its own work.
 */
import { join } from "node:path";
import type { EventInput, EventPublisher } from "../../../../src/controller/events/event-types.ts";
import { GroupService } from "../../../../src/controller/groups/group-service.ts";
import type {
  DrainRequest,
  InstanceLifecycle,
  PlaceRequest,
  StopRequest,
} from "../../../../src/controller/instances/instance-lifecycle.ts";
import { InstanceService } from "../../../../src/controller/instances/instance-service.ts";
import { MaintenanceService } from "../../../../src/controller/maintenance-service.ts";
import type { Metrics } from "../../../../src/controller/metrics/metrics.ts";
import type { NodeDoc } from "../../../../src/controller/nodes/node-doc.ts";
import { NodeService } from "../../../../src/controller/nodes/node-service.ts";
import { SchedulerLoop, type SchedulerLoopOptions } from "../../../../src/controller/scheduler/loop/index.ts";
import type { SchedulerInstanceDoc } from "../../../../src/controller/scheduler/loop/world-mapping.ts";
import { MemoryCoordination } from "../../../../src/coord/memory/memory-coordination.ts";
import type { Coordination } from "../../../../src/coord/port.ts";
import type { GroupSpec } from "../../../../src/core/groups/group-schema.ts";
import { silentLogger } from "../../../../src/log/logger.ts";
import type { DurableStore } from "../../../../src/store/port.ts";
import { SqliteStore } from "../../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../../support/temp-dirs.ts";

export const T0 = Date.UTC(2026, 0, 1);

export class Clock {
  t = T0;
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export class RecordingEvents implements EventPublisher {
  readonly events: EventInput[] = [];
  async publish(event: EventInput): Promise<void> {
    this.events.push(event);
  }
  ofType(type: EventInput["type"]): EventInput[] {
    return this.events.filter((e) => e.type === type);
  }
}

export type LifecycleCall =
  | { kind: "place"; request: PlaceRequest }
  | { kind: "stop"; request: StopRequest }
  | { kind: "drain"; request: DrainRequest }
  | { kind: "undrain"; request: DrainRequest };

/** Records every call and writes what the real lifecycle would, fenced with the request's fence. */
export class RecordingLifecycle implements InstanceLifecycle {
  readonly calls: LifecycleCall[] = [];
  /** Runs before a call is recorded; tests use it to steal a lease mid-tick. */
  before?: (call: LifecycleCall) => Promise<void>;

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
  ) {}

  private get col() {
    return this.store.collection<SchedulerInstanceDoc>("instances");
  }

  async place(request: PlaceRequest): Promise<void> {
    await this.before?.({ kind: "place", request });
    this.calls.push({ kind: "place", request });
    await this.col.put(
      {
        _id: request.instanceId,
        group: request.group,
        node: request.node,
        state: "SCHEDULED",
        port: request.port,
        createdAt: this.clock.t,
        ...(request.replaces !== undefined ? { replaces: request.replaces } : {}),
      },
      { fence: request.fence },
    );
  }

  async stop(request: StopRequest): Promise<void> {
    await this.before?.({ kind: "stop", request });
    this.calls.push({ kind: "stop", request });
    await this.col.update(request.instanceId, { state: "STOPPING" }, { fence: request.fence });
  }

  async drain(request: DrainRequest): Promise<void> {
    await this.before?.({ kind: "drain", request });
    this.calls.push({ kind: "drain", request });
    await this.col.update(request.instanceId, { state: "DRAINING" }, { fence: request.fence });
  }

  async undrain(request: DrainRequest): Promise<void> {
    await this.before?.({ kind: "undrain", request });
    this.calls.push({ kind: "undrain", request });
    await this.col.update(request.instanceId, { state: "RUNNING" }, { fence: request.fence });
  }

  drains(): DrainRequest[] {
    return this.calls.flatMap((c) => (c.kind === "drain" ? [c.request] : []));
  }

  places(): PlaceRequest[] {
    return this.calls.flatMap((c) => (c.kind === "place" ? [c.request] : []));
  }

  stops(): StopRequest[] {
    return this.calls.flatMap((c) => (c.kind === "stop" ? [c.request] : []));
  }
}

export class RecordingMetrics implements Metrics {
  readonly enabled = true;
  readonly ticks: Array<{ seconds: number; ok: boolean; groupsEvaluated?: number }> = [];
  acquired = 0;
  renewed = 0;
  contended = 0;
  httpRequest(): void {}
  schedulerTick(pass: { seconds: number; ok: boolean; groupsEvaluated?: number }): void {
    this.ticks.push(pass);
  }
  compositionPlanningFailed(): void {}
  leaseAcquired(): void {
    this.acquired++;
  }
  leaseRenewed(): void {
    this.renewed++;
  }
  leaseContended(): void {
    this.contended++;
  }
  jwtRevoked(): void {}
  backupRun(): void {}
  dependency(): void {}
  daemonMessageIn(): void {}
  daemonMessageOut(): void {}
  groupPaused(): void {}
  crashLoopPaused(): void {}
  deploymentEnded(): void {}
  sample(): void {}
  async render() {
    return { contentType: "text/plain", body: "" };
  }
}

export function node(
  id: string,
  clock: Clock,
  fields: Partial<NodeDoc> = {},
): Omit<NodeDoc, "_rev" | "_fence"> {
  return {
    _id: id,
    state: "ONLINE",
    connected: true,
    cordoned: false,
    drain: null,
    labels: {},
    capacity: {
      cpuUsage: 0.1,
      availableCpus: 8,
      totalMemoryMb: 16_384,
      usedMemoryMb: 0,
      totalDiskMb: 0,
      freeDiskMb: 0,
    },
    usedPorts: [],
    instances: [],
    lastSeen: clock.t,
    connectedAt: clock.t,
    disconnectedAt: null,
    disconnectReason: null,
    instancesLostAt: null,
    sessionId: `s-${id}`,
    controllerId: "c1",
    daemonVersion: "test",
    protocolVersion: 1,
    address: "127.0.0.1",
    host: {},
    enrolledAt: clock.t,
    certSerial: "00",
    certNotAfter: clock.t + 86_400_000,
    certRevoked: false,
    ...fields,
  };
}

export interface Rig {
  store: DurableStore;
  coord: Coordination;
  clock: Clock;
  events: RecordingEvents;
  metrics: RecordingMetrics;
  lifecycle: RecordingLifecycle;
  groups: GroupService;
  /** a loop over the rig's state; a second call is "the controller restarted" */
  loop(overrides?: Partial<SchedulerLoopOptions>): SchedulerLoop;
  addGroup(spec: Partial<GroupSpec> & { name: string }): Promise<void>;
  addNode(id: string, fields?: Partial<NodeDoc>): Promise<void>;
  instances(): Promise<SchedulerInstanceDoc[]>;
  setInstance(id: string, patch: Partial<SchedulerInstanceDoc>): Promise<void>;
  close(): Promise<void>;
}

/** The instance service the scheduler reads records through (the loop itself writes none). */
export function readOnlyInstances(store: DurableStore): InstanceService {
  return new InstanceService(store, { publish: async () => undefined }, silentLogger());
}

export async function rig(): Promise<Rig> {
  const store = await SqliteStore.open({ file: join(tempDir("sched-loop-"), "s.db") });
  const clock = new Clock();
  const coord = new MemoryCoordination(clock.now);
  const events = new RecordingEvents();
  const metrics = new RecordingMetrics();
  const lease = { coord, store, holder: "admin-ops" };
  const groups = new GroupService(store, events, lease);
  const maintenance = new MaintenanceService(store, { enabled: false, message: "" }, events, lease);
  const lifecycle = new RecordingLifecycle(store, clock);
  const loops: SchedulerLoop[] = [];
  const r: Rig = {
    store,
    coord,
    clock,
    events,
    metrics,
    lifecycle,
    groups,
    loop: (overrides = {}) => {
      const loop = new SchedulerLoop({
        store,
        instanceRecords: readOnlyInstances(store),
        coord,
        controllerId: "c1",
        maintenance,
        events,
        metrics,
        log: silentLogger(),
        lifecycle,
        nodes: new NodeService(store, clock.now),
        intervalMs: 15_000,
        scalingCooldownSeconds: 60,
        convergenceWindowMs: 0,
        now: clock.now,
        ...overrides,
      });
      loops.push(loop);
      return loop;
    },
    addGroup: async (spec) => {
      await groups.create(spec as GroupSpec);
    },
    addNode: async (id, fields) => {
      await store.collection<NodeDoc>("nodes").put(node(id, clock, fields));
    },
    instances: async () =>
      (await store.collection<SchedulerInstanceDoc>("instances").find({})).sort((a, b) =>
        a._id < b._id ? -1 : 1,
      ),
    setInstance: async (id, patch) => {
      await store.collection<SchedulerInstanceDoc>("instances").update(id, patch);
    },
    close: async () => {
      for (const loop of loops) await loop.stop();
      await store.close();
    },
  };
  return r;
}
