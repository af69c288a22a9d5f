import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { InstanceReconciler } from "./instance-reconciler.ts";
import type { NodeService } from "./node-service.ts";

export interface LivenessSettings {
  heartbeatIntervalMs: number;
  missedThreshold: number;
  instanceLostGraceMs: number;
}

/**
 * Node liveness beyond what a live session sees:
 * - a node still marked connected whose heartbeats stopped reaching the store (its controller died
 *   without closing anything) becomes UNREACHABLE;
 * - a disconnected node's instances are declared lost once the grace period has passed without a
 *   reconnect. The controller that saw the session end schedules that check precisely; the sweep
 *   is the backstop when that controller is gone too.
 *
 * One controller sweeps at a time (lease `node-liveness`); every write is conditional, so a sweep
 * racing a reconnect loses harmlessly.
 */
export class LivenessSweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private running = false;
  private startedAt = 0;

  constructor(
    private readonly deps: {
      nodes: NodeService;
      reconciler: InstanceReconciler;
      coord: Coordination;
      controllerId: string;
      log: Logger;
      settings: LivenessSettings;
      now?: () => number;
    },
  ) {}

  start(): void {
    this.startedAt = this.now();
    this.timer = setInterval(() => void this.sweep(), this.deps.settings.heartbeatIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  /** The session for `nodeId` ended unexpectedly at `disconnectedAt`: start its grace period. */
  scheduleLostCheck(nodeId: string, disconnectedAt: number): void {
    clearTimeout(this.pending.get(nodeId));
    const timer = setTimeout(() => {
      this.pending.delete(nodeId);
      void this.declareLost(nodeId, disconnectedAt);
    }, this.deps.settings.instanceLostGraceMs);
    timer.unref?.();
    this.pending.set(nodeId, timer);
  }

  /** Whether a grace period is running for `nodeId` (its instances may still be declared lost). */
  awaitingLoss(nodeId: string): boolean {
    return this.pending.has(nodeId);
  }

  /** A session opened again: the grace period is over without loss. */
  cancelLostCheck(nodeId: string): void {
    clearTimeout(this.pending.get(nodeId));
    this.pending.delete(nodeId);
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { coord, controllerId, nodes, settings, log } = this.deps;
    try {
      const lease = await coord.acquireLease(
        "node-liveness",
        controllerId,
        settings.heartbeatIntervalMs * settings.missedThreshold,
      );
      if (!lease) return;
      const now = this.now();
      const silentBefore = now - settings.heartbeatIntervalMs * (settings.missedThreshold + 1);
      for (const node of await nodes.all({ connected: true, lastSeen: { $lt: silentBefore } })) {
        if (await nodes.markSilent(node._id, silentBefore, "no heartbeat reached the store")) {
          log.warn({ nodeId: node._id, lastSeen: node.lastSeen }, "node silent: marked UNREACHABLE");
        }
      }
      // After a (re)start the grace period starts over: nodes that dropped while no controller was
      // watching get the same chance to reconnect as any other.
      if (now - this.startedAt < settings.instanceLostGraceMs) return;
      const graceBefore = now - settings.instanceLostGraceMs;
      for (const node of await nodes.all({
        connected: false,
        instancesLostAt: null,
        disconnectedAt: { $lte: graceBefore },
      })) {
        await this.declareLost(node._id, node.disconnectedAt ?? 0);
      }
    } catch (err) {
      log.warn({ err }, "node liveness sweep failed");
    } finally {
      this.running = false;
    }
  }

  private async declareLost(nodeId: string, disconnectedAt: number): Promise<void> {
    const { nodes, reconciler, log } = this.deps;
    try {
      const node = await nodes.get(nodeId);
      if (
        !node ||
        node.connected ||
        node.disconnectedAt !== disconnectedAt ||
        node.instancesLostAt !== null
      ) {
        return;
      }
      if (!(await nodes.markInstancesLost(nodeId, disconnectedAt))) return;
      const lost = await reconciler.nodeLost(nodeId);
      log.warn(
        { nodeId, instances: lost, graceMs: this.deps.settings.instanceLostGraceMs },
        "node still unreachable after the grace period: its instances are lost",
      );
    } catch (err) {
      log.warn({ nodeId, err }, "could not declare the node's instances lost");
    }
  }

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }
}
