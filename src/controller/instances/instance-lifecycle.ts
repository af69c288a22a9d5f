import type { Fence } from "../../store/port.ts";

/**
 * The seam between the scheduler loop (decides) and the instance lifecycle (does). The loop
 * holds the group's lease and passes its fence into every call; the lifecycle writes the instance
 * record, builds and persists the composition plan, and dispatches it to the node.
 */
export interface PlaceRequest {
  instanceId: string;
  group: string;
  node: string;
  port: number;
  fence: Fence;
  /** why the scheduler placed it, for events and diagnostics */
  reason: string;
  /** the group's deployment revision it is placed at (0: none); its plan uses that revision's pins */
  deploymentRevision?: number;
  /** the instance this one takes over from (written with the record, so no tick sees it unlinked) */
  replaces?: string;
}

export interface StopRequest {
  instanceId: string;
  reason: string;
  fence: Fence;
  /** skip the graceful stop command */
  force?: boolean;
}

export interface DrainRequest {
  instanceId: string;
  reason: string;
  fence: Fence;
}

export interface InstanceLifecycle {
  /** Creates the SCHEDULED record, persists the plan, dispatches it; resolves once dispatched (or failed, recorded). */
  place(request: PlaceRequest): Promise<void>;
  /** Asks the node to stop the instance (STOPPING); the daemon reports STOPPED/CRASHED later. */
  stop(request: StopRequest): Promise<void>;
  /** RUNNING → DRAINING: keeps the players it has, takes no new ones (INSTANCE_DRAINING). */
  drain(request: DrainRequest): Promise<void>;
  /** DRAINING → RUNNING, when the drain that asked for it was called off. */
  undrain(request: DrainRequest): Promise<void>;
}
