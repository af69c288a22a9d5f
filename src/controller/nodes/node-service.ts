import { systemClock } from "../../core/clock.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { DurableStore, Filter, Patch } from "../../store/port.ts";
import {
  emptyCapacity,
  type NodeCapacityDoc,
  type NodeDoc,
  type NodeDrain,
  type NodeInstanceReport,
  type NodeShutdownRequest,
  type NodeState,
  stateFor,
} from "./node-doc.ts";

export const NODES = "nodes" satisfies CollectionName;

/** What a Hello tells us about the node, already mapped from the wire. */
export interface NodeHello {
  sessionId: string;
  controllerId: string;
  daemonVersion: string;
  protocolVersion: number;
  labels: Record<string, string>;
  capacity: NodeCapacityDoc;
  usedPorts: number[];
  instances: NodeInstanceReport[];
  address: string;
  host: Record<string, string | number>;
  certSerial: string;
}

export interface NodeHeartbeat {
  capacity: NodeCapacityDoc;
  usedPorts: number[];
  instances: NodeInstanceReport[] | undefined;
}

/** Optimistic retries for read-modify-write on one node document before giving up with CONFLICT. */
const MAX_ATTEMPTS = 8;

/**
 * The `nodes` collection. Session writes (connect, heartbeat, disconnect) come from the controller
 * holding the node's session; operator writes (cordon, drain, delete) may come from any controller.
 * State-changing writes are read-modify-write with `ifRev`, so a cordon and a disconnect racing on
 * two controllers both land, and a disconnect only applies to the session that is ending (a new
 * session elsewhere has already replaced `sessionId`).
 */
/** More nodes than any fleet this controller runs; a list past it is cut, never unbounded. */
export const NODE_LIST_LIMIT = 10_000;

export class NodeService {
  constructor(
    private readonly store: DurableStore,
    private readonly now: () => number = systemClock.now,
  ) {}

  private get col() {
    return this.store.collection<NodeDoc>(NODES);
  }

  get(id: string): Promise<NodeDoc | null> {
    return this.col.get(id);
  }

  /** Nodes with an open stream to some controller (`prexorcloud_nodes_total`). */
  countConnected(): Promise<number> {
    return this.col.count({ connected: true });
  }

  async require(id: string): Promise<NodeDoc> {
    const doc = await this.col.get(id);
    if (!doc) throw new AppError("NOT_FOUND", `node "${id}" not found`);
    return doc;
  }

  async list(query: { state?: NodeState; page: number; pageSize: number }) {
    const filter: Filter = query.state ? { state: query.state } : {};
    return findPage(this.col, filter, query, [["_id", 1]]);
  }

  /** The nodes matching `filter`, bounded: a fleet is far below NODE_LIST_LIMIT nodes. */
  all(filter: Filter = {}): Promise<NodeDoc[]> {
    return this.col.find(filter, { sort: [["_id", 1]], limit: NODE_LIST_LIMIT });
  }

  /** Whether the node holds an open stream to some controller. */
  async isConnected(id: string): Promise<boolean> {
    return (await this.col.get(id))?.connected === true;
  }

  /** A node certificate was just issued: create the record, or renew it on re-enrolment. */
  async recordEnrollment(
    nodeId: string,
    cert: { serial: string; notAfter: number; daemonVersion: string },
  ): Promise<NodeDoc> {
    const now = this.now();
    const fields = {
      enrolledAt: now,
      certSerial: cert.serial,
      certNotAfter: cert.notAfter,
      certRevoked: false,
      daemonVersion: cert.daemonVersion,
    };
    const doc = await this.mutate(
      nodeId,
      (current) => (current ? fields : undefined),
      () => ({ ...blankNode(nodeId, now), ...fields }),
    );
    return doc!;
  }

  /**
   * A session opened. A node deleted from the list while its certificate is still valid comes back
   * here: the certificate is the proof of enrolment, the record only bookkeeping.
   */
  async markConnected(nodeId: string, hello: NodeHello): Promise<NodeDoc> {
    const now = this.now();
    const fields = (drain: NodeDrain | null): Patch<NodeDoc> => ({
      state: stateFor(true, drain, false),
      connected: true,
      labels: hello.labels,
      capacity: hello.capacity,
      usedPorts: hello.usedPorts,
      instances: hello.instances,
      lastSeen: now,
      connectedAt: now,
      disconnectReason: null,
      instancesLostAt: null,
      sessionId: hello.sessionId,
      controllerId: hello.controllerId,
      daemonVersion: hello.daemonVersion,
      protocolVersion: hello.protocolVersion,
      address: hello.address,
      host: hello.host,
      certSerial: hello.certSerial,
      certRevoked: false,
    });
    const doc = await this.mutate(
      nodeId,
      (current) => (current ? fields(current.drain) : undefined),
      () => ({ ...blankNode(nodeId, now), ...fields(null) }) as Omit<NodeDoc, "_rev" | "_fence">,
    );
    return doc!;
  }

  /** Capacity and liveness; no state change, so no read first (this runs for every heartbeat). */
  async recordHeartbeat(nodeId: string, beat: NodeHeartbeat): Promise<void> {
    const patch: Patch<NodeDoc> = {
      capacity: beat.capacity,
      usedPorts: beat.usedPorts,
      lastSeen: this.now(),
    };
    if (beat.instances) patch.instances = beat.instances;
    await this.col.update(nodeId, patch);
  }

  async recordInstances(nodeId: string, instances: NodeInstanceReport[]): Promise<void> {
    await this.col.update(nodeId, { instances });
  }

  /**
   * The session `sessionId` ended. `graceful` (the daemon said goodbye, or its certificate was
   * revoked) gives OFFLINE; anything else UNREACHABLE, which starts the instance grace period.
   * Returns null when another session already owns the node.
   */
  async markDisconnected(
    nodeId: string,
    sessionId: string,
    reason: string,
    graceful: boolean,
  ): Promise<NodeDoc | null> {
    const now = this.now();
    return this.mutate(nodeId, (current) => {
      if (!current || current.sessionId !== sessionId || !current.connected) return null;
      return {
        state: stateFor(false, current.drain, graceful),
        connected: false,
        disconnectedAt: now,
        disconnectReason: reason,
        sessionId: null,
      };
    });
  }

  /**
   * A node that still looks connected but has not been heard from (its controller died silently).
   * Conditional on `lastSeen` so a heartbeat that lands meanwhile wins.
   */
  async markSilent(nodeId: string, silentSince: number, reason: string): Promise<boolean> {
    const now = this.now();
    const result = await this.mutate(nodeId, (current) => {
      if (!current?.connected || (current.lastSeen ?? 0) > silentSince) return null;
      return {
        state: stateFor(false, current.drain, false),
        connected: false,
        disconnectedAt: now,
        disconnectReason: reason,
        sessionId: null,
      };
    });
    return result !== null;
  }

  async markInstancesLost(nodeId: string, disconnectedAt: number): Promise<boolean> {
    const result = await this.mutate(nodeId, (current) => {
      if (!current || current.connected || current.disconnectedAt !== disconnectedAt) return null;
      if (current.instancesLostAt !== null) return null;
      return { instancesLostAt: this.now(), instances: [] };
    });
    return result !== null;
  }

  setCordoned(nodeId: string, cordoned: boolean) {
    return this.change(nodeId, () => ({ cordoned }));
  }

  /** A drain cordons the node first; the cordon it found is kept so an undrain can restore it. */
  startDrain(nodeId: string, drain: NodeDrain) {
    return this.change(nodeId, (current) => ({
      drain: { ...drain, cordonedBefore: current.drain?.cordonedBefore ?? current.cordoned },
      cordoned: true,
      state: current.connected ? "DRAINING" : current.state,
    }));
  }

  /** Calls off a drain in progress; a finished one is over (the node stays cordoned: uncordon it). */
  stopDrain(nodeId: string) {
    return this.change(nodeId, (current) => {
      if (current.drain === null) throw new AppError("ILLEGAL_STATE", "node not draining");
      return {
        drain: null,
        cordoned: current.drain.cordonedBefore ?? false,
        state: current.connected ? "ONLINE" : current.state,
      };
    });
  }

  /**
   * The drain requested at `requestedAt` emptied the node: it stops draining and stays cordoned, and
   * with `shutdown` a ShutdownNode is owed to its daemon. Null when that drain is no longer the node's.
   */
  finishDrain(nodeId: string, requestedAt: number, shutdown?: NodeShutdownRequest): Promise<NodeDoc | null> {
    return this.mutate(nodeId, (current) => {
      if (!current || current.drain?.requestedAt !== requestedAt) return null;
      return {
        drain: null,
        cordoned: true,
        state: current.connected ? "ONLINE" : current.state,
        ...(shutdown ? { shutdownRequest: shutdown } : {}),
      };
    });
  }

  /** Leaves a ShutdownNode on the record for whichever controller holds the node's session. */
  requestShutdown(nodeId: string, request: NodeShutdownRequest) {
    return this.change(nodeId, () => ({ shutdownRequest: request }));
  }

  /** The owed ShutdownNode was sent; a newer request made meanwhile stays. */
  async clearShutdownRequest(nodeId: string, requestedAt: number): Promise<void> {
    await this.mutate(nodeId, (current) =>
      current?.shutdownRequest?.requestedAt === requestedAt ? { shutdownRequest: null } : null,
    );
  }

  /** Certificate revoked: the record stays (for the audit trail) but shows why the node is gone. */
  setCertRevoked(nodeId: string, revoked: boolean) {
    return this.change(nodeId, () => ({ certRevoked: revoked }));
  }

  /** Removes the record of a disconnected node; 409 while it is connected. */
  async delete(nodeId: string): Promise<NodeDoc> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.require(nodeId);
      if (current.connected) {
        throw new AppError("ILLEGAL_STATE", `node "${nodeId}" is connected; drain and stop it first`);
      }
      try {
        if (await this.col.delete(nodeId, { ifRev: current._rev })) return current;
        throw new AppError("NOT_FOUND", `node "${nodeId}" not found`);
      } catch (err) {
        if (!isAppError(err, "CONFLICT")) throw err;
      }
    }
    throw new AppError("CONFLICT", `node "${nodeId}" keeps changing; retry`);
  }

  /** Operator change of an existing node: returns the document before and after. */
  private async change(
    nodeId: string,
    patchOf: (current: NodeDoc) => Patch<NodeDoc>,
  ): Promise<{ before: NodeDoc; after: NodeDoc }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const before = await this.require(nodeId);
      try {
        const after = await this.col.update(nodeId, patchOf(before), { ifRev: before._rev });
        if (!after) throw new AppError("NOT_FOUND", `node "${nodeId}" not found`);
        return { before, after };
      } catch (err) {
        if (!isAppError(err, "CONFLICT")) throw err;
      }
    }
    throw new AppError("CONFLICT", `node "${nodeId}" keeps changing; retry`);
  }

  /**
   * Read-modify-write with retries. `patchOf` answers with a patch to apply, null for "leave it"
   * (mutate then returns null), or undefined for "absent: insert `create()`".
   */
  private async mutate(
    nodeId: string,
    patchOf: (current: NodeDoc | null) => Patch<NodeDoc> | null | undefined,
    create?: () => Omit<NodeDoc, "_rev" | "_fence">,
  ): Promise<NodeDoc | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.col.get(nodeId);
      const patch = patchOf(current);
      if (patch === null) return null;
      try {
        if (patch === undefined || !current) {
          if (!create) return null;
          return await this.col.insert(create());
        }
        const updated = await this.col.update(nodeId, patch, { ifRev: current._rev });
        if (updated) return updated;
      } catch (err) {
        if (!isAppError(err, "CONFLICT") && !isAppError(err, "DUPLICATE_KEY")) throw err;
      }
    }
    throw new AppError("CONFLICT", `node "${nodeId}" keeps changing; retry`);
  }
}

function blankNode(nodeId: string, now: number): Omit<NodeDoc, "_rev" | "_fence"> {
  return {
    _id: nodeId,
    state: "OFFLINE",
    connected: false,
    cordoned: false,
    drain: null,
    labels: {},
    capacity: emptyCapacity(),
    usedPorts: [],
    instances: [],
    lastSeen: null,
    connectedAt: null,
    disconnectedAt: null,
    disconnectReason: null,
    instancesLostAt: null,
    sessionId: null,
    controllerId: null,
    daemonVersion: "",
    protocolVersion: 0,
    address: "",
    host: {},
    enrolledAt: now,
    certSerial: "",
    certNotAfter: 0,
    certRevoked: false,
  };
}
