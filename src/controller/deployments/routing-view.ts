import type { DurableStore } from "../../store/port.ts";
import { type RoutedInstance, routableFilter } from "./blue-green-routing.ts";
import { ACTIVE_STATES, DEPLOYMENTS, type DeploymentDoc } from "./deployment-doc.ts";

/** One active deployment per group: far above any real count, a bound on a corrupt store. */
const SCAN = 1000;

/** Reads what routing may point at: one store query over the active BLUE_GREEN deployments. */
export interface RoutingSource {
  filter(): Promise<(i: RoutedInstance) => boolean>;
}

/**
 * The proxy route tables, the plugin/proxy placement answers and transfer targets all ask this, so a
 * recorded switch reaches them together (on their next read; proxies on their next refresh).
 */
export class RoutingView implements RoutingSource {
  constructor(private readonly store: DurableStore) {}

  async filter(): Promise<(i: RoutedInstance) => boolean> {
    const docs = await this.store
      .collection<DeploymentDoc>(DEPLOYMENTS)
      .find({ strategy: "BLUE_GREEN", state: { $in: [...ACTIVE_STATES] } }, { limit: SCAN });
    return routableFilter(docs);
  }
}
