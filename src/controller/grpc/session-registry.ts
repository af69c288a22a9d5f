import type { Fence } from "../../store/port.ts";
import type { PushOutcome } from "../../wire/frame-queue.ts";
import type { ControllerMessage, DaemonMessage } from "../../wire/index.ts";
import type { RevocationChange } from "../nodes/cert-revocations.ts";

/** What the registry needs from a live session. */
export interface LiveSession {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly certSerial: string;
  /** Queues a frame, stamped with the session's epoch. */
  send(frame: NonNullable<ControllerMessage["frame"]>): PushOutcome;
  /**
   * The fence for record writes this session drives (`node:<id>` at the session's lease epoch), so
   * a controller that lost the node while paused cannot land them; undefined before the lease.
   */
  writeFence(): Fence | undefined;
  /** Ends the stream with a reason; `graceful` decides OFFLINE versus UNREACHABLE. */
  end(reason: string, options: { graceful: boolean; code?: "UNAUTHENTICATED" | "UNAVAILABLE" }): void;
  /** The node said Hello elsewhere: end this session if the node went silent here; says whether. */
  yieldIfSilent?(): boolean;
}

/** Asks the controller holding a node's session to let go of it (see node-handover.ts). */
export type HandoverRequest = (nodeId: string) => void;

/** Hands a frame to whichever controller holds the node's session (see command-relay.ts). */
export type FrameRelay = (nodeId: string, frame: NonNullable<ControllerMessage["frame"]>) => void;

/** A node's session opened; `instanceIds` are the live instances its Hello reported. */
export type OpenListener = (nodeId: string, instanceIds: readonly string[]) => void;

/**
 * May return the work it started: the stream reads its next frame once that work is done. `fence`
 * is the receiving session's write fence (see LiveSession.writeFence): record writes a frame drives
 * carry it.
 */
export type FrameListener = (
  nodeId: string,
  frame: NonNullable<DaemonMessage["frame"]>,
  fence: Fence | undefined,
) => undefined | Promise<unknown>;

/**
 * The daemon sessions open on this controller, one per node. Other components reach a node through
 * `send`, and hear daemon frames the link does not handle itself (acks, console lines, crash
 * reports, module state) through `onFrame`.
 */
export class SessionRegistry {
  private readonly byNode = new Map<string, LiveSession>();
  private readonly frameListeners = new Set<FrameListener>();
  private readonly openListeners = new Set<OpenListener>();
  private relay: FrameRelay | undefined;
  private handover: HandoverRequest | undefined;

  get size(): number {
    return this.byNode.size;
  }

  nodeIds(): string[] {
    return [...this.byNode.keys()];
  }

  get(nodeId: string): LiveSession | undefined {
    return this.byNode.get(nodeId);
  }

  /** Adds a session; a previous session of the same node (a reconnect that raced) is ended. */
  register(session: LiveSession): void {
    const previous = this.byNode.get(session.nodeId);
    this.byNode.set(session.nodeId, session);
    if (previous && previous !== session) {
      previous.end("replaced by a newer session of the same node", { graceful: false });
    }
  }

  /** Removes the session if it is still the current one for its node; says whether it was. */
  unregister(session: LiveSession): boolean {
    if (this.byNode.get(session.nodeId) !== session) return false;
    this.byNode.delete(session.nodeId);
    return true;
  }

  /** Sends to a node whose session is on this controller; "no-session" otherwise. */
  send(nodeId: string, frame: NonNullable<ControllerMessage["frame"]>): PushOutcome | "no-session" {
    const session = this.byNode.get(nodeId);
    return session ? session.send(frame) : "no-session";
  }

  setRelay(relay: FrameRelay | undefined): void {
    this.relay = relay;
  }

  setHandover(handover: HandoverRequest | undefined): void {
    this.handover = handover;
  }

  /** Asks whoever holds the node's session to hand it over; false when nobody can be asked. */
  requestHandover(nodeId: string): boolean {
    if (!this.handover) return false;
    this.handover(nodeId);
    return true;
  }

  /**
   * Sends to the node wherever its session is: here, or through the relay to the controller that
   * holds it ("relayed": handed on, delivery not confirmed). For commands that must reach the
   * node; replies to what a node asked on this session use `send`.
   */
  deliver(
    nodeId: string,
    frame: NonNullable<ControllerMessage["frame"]>,
  ): PushOutcome | "no-session" | "relayed" {
    const session = this.byNode.get(nodeId);
    if (session) return session.send(frame);
    if (!this.relay) return "no-session";
    this.relay(nodeId, frame);
    return "relayed";
  }

  /** Called once a session is established (after HelloAck), with the instances its Hello reported. */
  onOpen(listener: OpenListener): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  emitOpen(nodeId: string, instanceIds: readonly string[]): void {
    for (const listener of this.openListeners) {
      try {
        listener(nodeId, instanceIds);
      } catch {
        // A listener's bug must not take the session down.
      }
    }
  }

  onFrame(listener: FrameListener): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /**
   * Resolves once every listener's work for the frame is done, so a node's frames take effect in
   * the order it sent them (a StartInstanceAck before the state report that followed it).
   */
  async emitFrame(nodeId: string, frame: NonNullable<DaemonMessage["frame"]>, fence?: Fence): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const listener of this.frameListeners) {
      try {
        const work = listener(nodeId, frame, fence);
        // each listener reports its own failures; one must not stop the others
        if (work) pending.push(work.catch(() => undefined));
      } catch {
        // A listener's bug must not take the stream down.
      }
    }
    if (pending.length > 0) await Promise.all(pending);
  }

  /** A certificate was revoked (here or on another controller): its stream closes now. */
  closeRevoked(change: RevocationChange): void {
    if (change.op !== "revoke") return;
    for (const session of [...this.byNode.values()]) {
      if (session.nodeId === change.cn || session.certSerial === change.serial) {
        session.end("client certificate revoked", { graceful: true, code: "UNAUTHENTICATED" });
      }
    }
  }

  closeAll(reason: string): void {
    for (const session of [...this.byNode.values()]) {
      session.end(reason, { graceful: false, code: "UNAVAILABLE" });
    }
  }
}
