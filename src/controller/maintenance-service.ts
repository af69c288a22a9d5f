import type { Maintenance } from "../api/maintenance.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { CLUSTER_META } from "../store/collections.ts";
import type { Doc, DurableStore } from "../store/port.ts";
import type { EventPublisher } from "./events/event-types.ts";
import { type LeaseGateOptions, withLease } from "./lease-gate.ts";

export type { Maintenance };

interface MaintenanceDoc extends Doc, Maintenance {
  updatedAt: number;
}

/** Global maintenance: controller.yml gives the first value; the store holds the current one. */
export class MaintenanceService {
  constructor(
    private readonly store: DurableStore,
    private readonly initial: Maintenance,
    private readonly events: EventPublisher,
    private readonly lease: LeaseGateOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  private get meta() {
    return this.store.collection<MaintenanceDoc>(CLUSTER_META);
  }

  async get(): Promise<Maintenance> {
    const doc = await this.meta.get("maintenance");
    return doc ? { enabled: doc.enabled, message: doc.message } : { ...this.initial };
  }

  async set(next: Maintenance): Promise<{ before: Maintenance; after: Maintenance }> {
    return withLease(this.lease, "maintenance", async (fence) => {
      const before = await this.get();
      await this.meta.put({ _id: "maintenance", ...next, updatedAt: this.clock.now() }, { fence });
      await this.events.publish({
        type: "MAINTENANCE_UPDATED",
        payload: { globalEnabled: next.enabled, message: next.message },
      });
      return { before, after: next };
    });
  }
}
