/**
 * Built-in event types (names from the product's event catalogue). Payload fields are plain
 * JSON; timestamps are ISO-8601 unless the field name ends in `Ms`.
 */
export const EVENT_TYPES = [
  "NODE_CONNECTED",
  "NODE_DISCONNECTED",
  "NODE_STATUS",
  "NODE_HEARTBEAT_STALE",
  "NODE_HEARTBEAT_RESUMED",
  "NODE_DRAIN_REQUESTED",
  "NODE_DRAIN_COMPLETED",
  "INSTANCE_STATE_CHANGED",
  "INSTANCE_CRASHED",
  "INSTANCE_DRAINING",
  "INSTANCE_CONSOLE_OUTPUT",
  "INSTANCE_METRICS",
  "GROUP_CREATED",
  "GROUP_UPDATED",
  "GROUP_DELETED",
  "GROUP_AGGREGATES_UPDATED",
  "GROUP_MAINTENANCE_CHANGED",
  "GROUP_CRASH_LOOP",
  "DEPLOYMENT_CREATED",
  "DEPLOYMENT_COMPLETED",
  "PLAYER_CONNECTED",
  "PLAYER_DISCONNECTED",
  "PLAYER_TRANSFER",
  "TEMPLATE_UPDATED",
  "MAINTENANCE_UPDATED",
  "NETWORK_CREATED",
  "NETWORK_UPDATED",
  "NETWORK_DELETED",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What publishers hand the bus; the bus adds `sequence` and `timestamp`. */
export interface EventInput {
  type: EventType;
  /** the group the event concerns, for SSE group filters */
  group?: string;
  payload: Record<string, unknown>;
}

/** The one way controller code announces something happened. */
export interface EventPublisher {
  publish(event: EventInput): Promise<void>;
}
