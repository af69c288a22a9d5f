import { NODE_STATES, type NodeState } from "../../core/lifecycle/node-state.ts";
import type { Doc } from "../../store/port.ts";

/** Connectivity and drain, folded into the one state operators and the scheduler read. */
export { NODE_STATES, type NodeState };

export interface NodeCapacityDoc {
  cpuUsage: number;
  availableCpus: number;
  totalMemoryMb: number;
  usedMemoryMb: number;
  totalDiskMb: number;
  freeDiskMb: number;
}

export interface NodeDrain {
  requestedAt: number;
  /** after this, instances still on the node are stopped without waiting for players to leave */
  deadlineAt: number;
  /** the daemon is asked to shut down once empty */
  shutdown: boolean;
  kickMessage: string;
  requestedBy: string;
  /** whether the node was cordoned before the drain cordoned it, so an undrain restores that */
  cordonedBefore?: boolean;
}

/** A ShutdownNode waiting for the controller that holds the node's session to send it. */
export interface NodeShutdownRequest {
  requestedAt: number;
  reason: string;
  requestedBy: string;
}

export interface NodeInstanceReport {
  instanceId: string;
  group: string;
  state: string;
  port: number;
  playerCount: number;
  /** `players.max` from the node's list ping; 0 when not known */
  maxPlayers?: number;
  /** names from the node's list ping sample */
  playerSample?: string[];
  /** their UUIDs, position by position ("" where none) */
  playerSampleIds?: string[];
  uptimeMs: number;
  planHash: string;
}

/** `nodes` collection, keyed by node id (= the CN of its certificate). */
export interface NodeDoc extends Doc {
  state: NodeState;
  /** true while a daemon session is open on some controller */
  connected: boolean;
  cordoned: boolean;
  drain: NodeDrain | null;
  labels: Record<string, string>;
  capacity: NodeCapacityDoc;
  usedPorts: number[];
  instances: NodeInstanceReport[];
  /** epoch ms of the last frame that reached the store (Hello or Heartbeat) */
  lastSeen: number | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  disconnectReason: string | null;
  /** set once an unreachable node's instances were declared lost, so it happens once */
  instancesLostAt: number | null;
  sessionId: string | null;
  controllerId: string | null;
  daemonVersion: string;
  protocolVersion: number;
  /** what players and proxies should dial; from Hello, else the peer address */
  address: string;
  host: Record<string, string | number>;
  enrolledAt: number;
  certSerial: string;
  certNotAfter: number;
  certRevoked: boolean;
  /** set while a ShutdownNode is owed to the daemon; absent on records from before it existed */
  shutdownRequest?: NodeShutdownRequest | null;
}

export function emptyCapacity(): NodeCapacityDoc {
  return { cpuUsage: 0, availableCpus: 0, totalMemoryMb: 0, usedMemoryMb: 0, totalDiskMb: 0, freeDiskMb: 0 };
}

export function stateFor(connected: boolean, drain: NodeDrain | null, graceful: boolean): NodeState {
  if (connected) return drain ? "DRAINING" : "ONLINE";
  return graceful ? "OFFLINE" : "UNREACHABLE";
}

/** The REST shape: store bookkeeping left out, times as ISO strings. */
export function toNodeView(doc: NodeDoc) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: doc._id,
    state: doc.state,
    connected: doc.connected,
    cordoned: doc.cordoned,
    drain: doc.drain
      ? {
          requestedAt: iso(doc.drain.requestedAt),
          deadlineAt: iso(doc.drain.deadlineAt),
          shutdown: doc.drain.shutdown,
          kickMessage: doc.drain.kickMessage,
          requestedBy: doc.drain.requestedBy,
        }
      : null,
    shutdownRequestedAt: iso(doc.shutdownRequest?.requestedAt ?? null),
    labels: doc.labels,
    capacity: doc.capacity,
    usedPorts: doc.usedPorts,
    instanceCount: doc.instances.length,
    instances: doc.instances,
    address: doc.address,
    lastSeen: iso(doc.lastSeen),
    connectedAt: iso(doc.connectedAt),
    disconnectedAt: iso(doc.disconnectedAt),
    disconnectReason: doc.disconnectReason,
    controllerId: doc.controllerId,
    daemonVersion: doc.daemonVersion,
    protocolVersion: doc.protocolVersion,
    host: doc.host,
    enrolledAt: iso(doc.enrolledAt),
    certificate: { serial: doc.certSerial, notAfter: iso(doc.certNotAfter), revoked: doc.certRevoked },
  };
}

export type NodeView = ReturnType<typeof toNodeView>;
