import type { Coordination } from "../../../coord/port.ts";
import type { CollectionName } from "../../../store/collections.ts";
import type { Doc, DurableStore, Fence } from "../../../store/port.ts";

/** The last scale action per group: the cooldowns. */
export const SCALE_ACTIONS = "scale_actions" satisfies CollectionName;

/** `scale_actions`, one document per group: when the scheduler last scaled it. */
export interface ScaleActionDoc extends Doc {
  lastScaleAt: number;
  /** the controller that stamped it, for diagnostics */
  controllerId: string;
}

const MIRROR_HOLDER = "scheduler-cooldown";

/**
 * Scaling cooldown stamps. The store copy (`scale_actions`) is authoritative: it is what a restarted or
 * newly leading controller reads, so a cooldown window survives failover. The coordination copy
 * (`cooldown:<group>`, expiring with the window) mirrors it for other readers the way the spec keeps it
 * in Valkey; the coordination port has no plain expiring key, so the mirror is a lease whose TTL is the
 * window. Stamps are written under the group lease's fence, so a deposed controller cannot move them.
 */
export class CooldownBook {
  constructor(private readonly deps: { store: DurableStore; coord: Coordination; controllerId: string }) {}

  private get col() {
    return this.deps.store.collection<ScaleActionDoc>(SCALE_ACTIONS);
  }

  /** Every group's last scale time, for the tick input. */
  async load(): Promise<Record<string, number>> {
    const stamps: Record<string, number> = {};
    for (const doc of await this.col.find({}, { limit: 1_000_000 })) stamps[doc._id] = doc.lastScaleAt;
    return stamps;
  }

  async stamp(group: string, at: number, windowMs: number, fence: Fence): Promise<void> {
    await this.col.put({ _id: group, lastScaleAt: at, controllerId: this.deps.controllerId }, { fence });
    if (windowMs <= 0) return;
    try {
      await this.mirror(group, windowMs);
    } catch {
      // The mirror is advisory; the store copy already holds the stamp.
    }
  }

  /**
   * Every controller writes the mirror as the same holder, so taking it again renews it with a fresh
   * TTL: the window restarts exactly like a SETEX would.
   */
  private async mirror(group: string, windowMs: number): Promise<void> {
    await this.deps.coord.acquireLease(`cooldown:${group}`, MIRROR_HOLDER, windowMs);
  }
}
