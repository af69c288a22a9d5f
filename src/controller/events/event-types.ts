/**
 * Built-in event types (names and fields from the product's event catalogue). Payload fields are
 * plain JSON; timestamps are ISO-8601 unless the field name ends in `Ms`; enum values travel as
 * their names.
 */
export interface EventPayloads {
  NODE_CONNECTED: { nodeId: string; sessionId: string; timestamp?: string };
  NODE_DISCONNECTED: { nodeId: string; reason: string; timestamp?: string };
  NODE_STATUS: {
    nodeId: string;
    cpuUsage: number;
    usedMemoryMb: number;
    totalMemoryMb: number;
    lastHeartbeatAt: string;
  };
  NODE_HEARTBEAT_STALE: { nodeId: string; missedPongs: number; lastHeartbeatAt: string | null };
  NODE_HEARTBEAT_RESUMED: { nodeId: string; lastHeartbeatAt: string };
  NODE_DRAIN_REQUESTED: {
    nodeId: string;
    shutdownAfterDrain: boolean;
    drainTimeoutSeconds: number;
    kickMessage: string | null;
    timestamp?: string;
  };
  NODE_DRAIN_COMPLETED: { nodeId: string; timestamp?: string };
  NODE_CACHE_STATUS: { nodeId: string; totalSizeBytes: number; timestamp?: string };
  INSTANCE_STATE_CHANGED: {
    instanceId: string;
    group: string;
    nodeId: string | null;
    oldState: string | null;
    newState: string;
  };
  INSTANCE_CRASHED: {
    instanceId: string;
    group: string;
    nodeId: string | null;
    exitCode: number | null;
    classification: string;
    logTail: string[];
    uptimeMs: number;
  };
  INSTANCE_DRAINING: { instanceId: string; group: string; nodeId: string | null };
  INSTANCE_CONSOLE_OUTPUT: { instanceId: string; line: string; timestampMs: number };
  INSTANCE_METRICS: { instanceId: string; group: string } & Record<string, unknown>;
  INSTANCE_WARM_CHANGED: { instanceId: string; group: string; nodeId: string | null; warm: boolean };
  GROUP_CREATED: { groupName: string };
  GROUP_UPDATED: { groupName: string };
  GROUP_DELETED: { groupName: string };
  GROUP_AGGREGATES_UPDATED: { groupName: string; runningInstances: number; totalPlayers: number };
  GROUP_MAINTENANCE_CHANGED: { groupName: string; maintenance: boolean; message?: string | null };
  GROUP_CRASH_LOOP: { group: string; crashCount: number; windowStart: string };
  GROUP_PAUSED: { group: string; code: string; reason: string };
  DEPLOYMENT_CREATED: { groupName: string; revision: number; strategy: string };
  DEPLOYMENT_WAVE_COMPLETED: {
    groupName: string;
    revision: number;
    wave: number;
    verdict: string;
    reason: string;
  };
  DEPLOYMENT_COMPLETED: { groupName: string; revision: number; outcome: string };
  PLAYER_CONNECTED: { uuid: string; name: string; instanceId: string; group: string };
  PLAYER_DISCONNECTED: { uuid: string; name: string; instanceId: string; group: string };
  PLAYER_TRANSFER: { uuid: string; name: string; fromInstanceId: string; toInstanceId: string };
  PLAYER_JOURNEY: { entry: Record<string, unknown> };
  TEMPLATE_UPDATED: { templateName: string; oldHash: string | null; newHash: string };
  MAINTENANCE_UPDATED: { globalEnabled: boolean; message?: string | null };
  NETWORK_CREATED: { networkName: string };
  NETWORK_UPDATED: { networkName: string };
  NETWORK_DELETED: { networkName: string };
  MODULE_LOADED: { moduleName: string; hasFrontend: boolean };
  MODULE_UNLOADED: { moduleName: string };
  MODULE_FRONTEND_RELOADED: { moduleName: string; contentHash: string };
  CAPABILITY_REGISTERED: { capabilityId: string; version: string; moduleId: string };
  CAPABILITY_UNREGISTERED: { capabilityId: string; moduleId: string };
  CAPABILITY_PROVIDER_CHANGED: {
    capabilityId: string;
    moduleId: string;
    fromVersion: string | null;
    toVersion: string | null;
  };
  CLUSTER_CONFIG_CHANGED: { version: number; parentVersion: number; mutator: string; action: string };
  CHOREOGRAPHY_OVERLAY_ACTIVATED: { eventName: string; group: string; activeUntil: string };
  CHOREOGRAPHY_OVERLAY_DEACTIVATED: { eventName: string; group: string; reason: string };
  /** ours: a controller lost its store or coordination connection (dependency-watch.ts) */
  DEPENDENCY_DOWN: { controllerId: string; dependency: "store" | "coordination"; message: string };
  DEPENDENCY_RESTORED: { controllerId: string; dependency: "store" | "coordination"; downMs: number };
}

export type EventType = keyof EventPayloads;

/** Every built-in type, for validation and docs; the compiler keeps it in step with EventPayloads. */
export const EVENT_TYPES = Object.keys({
  NODE_CONNECTED: 1,
  NODE_DISCONNECTED: 1,
  NODE_STATUS: 1,
  NODE_HEARTBEAT_STALE: 1,
  NODE_HEARTBEAT_RESUMED: 1,
  NODE_DRAIN_REQUESTED: 1,
  NODE_DRAIN_COMPLETED: 1,
  NODE_CACHE_STATUS: 1,
  INSTANCE_STATE_CHANGED: 1,
  INSTANCE_CRASHED: 1,
  INSTANCE_DRAINING: 1,
  INSTANCE_CONSOLE_OUTPUT: 1,
  INSTANCE_METRICS: 1,
  INSTANCE_WARM_CHANGED: 1,
  GROUP_CREATED: 1,
  GROUP_UPDATED: 1,
  GROUP_DELETED: 1,
  GROUP_AGGREGATES_UPDATED: 1,
  GROUP_MAINTENANCE_CHANGED: 1,
  GROUP_CRASH_LOOP: 1,
  GROUP_PAUSED: 1,
  DEPLOYMENT_CREATED: 1,
  DEPLOYMENT_WAVE_COMPLETED: 1,
  DEPLOYMENT_COMPLETED: 1,
  PLAYER_CONNECTED: 1,
  PLAYER_DISCONNECTED: 1,
  PLAYER_TRANSFER: 1,
  PLAYER_JOURNEY: 1,
  TEMPLATE_UPDATED: 1,
  MAINTENANCE_UPDATED: 1,
  NETWORK_CREATED: 1,
  NETWORK_UPDATED: 1,
  NETWORK_DELETED: 1,
  MODULE_LOADED: 1,
  MODULE_UNLOADED: 1,
  MODULE_FRONTEND_RELOADED: 1,
  CAPABILITY_REGISTERED: 1,
  CAPABILITY_UNREGISTERED: 1,
  CAPABILITY_PROVIDER_CHANGED: 1,
  CLUSTER_CONFIG_CHANGED: 1,
  CHOREOGRAPHY_OVERLAY_ACTIVATED: 1,
  CHOREOGRAPHY_OVERLAY_DEACTIVATED: 1,
  DEPENDENCY_DOWN: 1,
  DEPENDENCY_RESTORED: 1,
} satisfies Record<EventType, 1>) as EventType[];

/**
 * The types the cross-controller bridge republishes (and nothing else): the ones other
 * controllers keep caches of. Everything else stays local, though every event reaches every
 * controller's SSE clients through the shared replay buffer.
 */
export const BRIDGED_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  "NODE_CONNECTED",
  "NODE_DISCONNECTED",
  "NODE_STATUS",
  "INSTANCE_STATE_CHANGED",
  "PLAYER_CONNECTED",
  "PLAYER_DISCONNECTED",
  "GROUP_CREATED",
  "GROUP_UPDATED",
  "GROUP_DELETED",
]);

/**
 * Never on the general stream and never in its replay buffer: console lines have their own
 * per-instance stream, and at their volume they would flush every other event out of the buffer.
 */
export const STREAM_EXCLUDED: ReadonlySet<string> = new Set(["INSTANCE_CONSOLE_OUTPUT"]);

/** What publishers hand the bus; the bus adds `sequence`, `timestamp` and `origin`. */
export type EventInput = {
  [K in EventType]: {
    type: K;
    /** the group the event concerns, for SSE group filters */
    group?: string;
    payload: EventPayloads[K];
  };
}[EventType];

/** An event as subscribers and SSE clients see it. */
export interface BusEvent<K extends EventType = EventType> {
  type: K;
  /** position in the cluster-wide replay buffer; 0 when the buffer was unreachable or excluded */
  sequence: number;
  /** ISO-8601, when the bus accepted it */
  timestamp: string;
  /** id of the controller that published it */
  origin: string;
  group?: string;
  payload: EventPayloads[K];
}

/** The one way controller code announces something happened. */
export interface EventPublisher {
  publish(event: EventInput): Promise<void>;
}

/**
 * An event a workload made up (`POST /api/{plugin,proxy}/events`). Subscribers and SSE clients
 * see `{type, source, payload, timestamp}`; its type is never a built-in one, so nobody can fake
 * the events the controller itself reacts to.
 */
export interface CustomEventInput {
  type: string;
  /** who published it, e.g. the instance id */
  source: string;
  payload: Record<string, unknown>;
  group?: string;
}

export interface CustomEventPublisher {
  publishCustom(event: CustomEventInput): Promise<void>;
}

/** Built-in names plus the SSE-only synthetic one: off limits for custom events. */
export function isReservedEventType(type: string): boolean {
  return type === "RESYNC_REQUIRED" || (EVENT_TYPES as string[]).includes(type);
}
