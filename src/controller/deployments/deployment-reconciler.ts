import type { Coordination } from "../../coord/port.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore } from "../../store/port.ts";
import { ACTIVE_STATES, DEPLOYMENTS, type DeploymentDoc } from "./deployment-doc.ts";

/** Cluster singleton (spec 30 §2.1): one controller at a time, the lease outlives a few rounds. */
export const RECONCILER_SCOPE = "deployment-reconciler";
const LEASE_TTL_MS = 5 * 60 * 1000;
/** Bounded scan per round (spec 20 §1: ≤ 50), oldest first so none is starved. */
export const RECONCILER_SCAN = 50;

export interface ReconcilerDeps {
  store: DurableStore;
  /** which groups still exist (GroupService.existing) */
  groups: { existing(names: readonly string[]): Promise<Set<string>> };
  coord: Coordination;
  controllerId: string;
  log: Logger;
  clock?: Clock;
  intervalMs: number;
  /** ends a deployment that nothing can drive any more */
  abandon(doc: DeploymentDoc, reason: string): Promise<void>;
  /** brings this controller's scheduler tick forward (it then takes any group lease left free) */
  nudge(): void;
}

/**
 * The safety net around deployments. Progress itself is level-triggered in the scheduler tick of
 * whichever controller holds the group's lease, so a dead controller's deployment continues as soon as
 * a survivor takes that lease. This singleton looks at what the ticks cannot see: an active deployment
 * of a group that no longer exists ends FAILED; for the rest it nudges its own scheduler, so a
 * deployment left by a dead controller is picked up at once rather than at the next interval.
 */
export function startDeploymentReconciler(deps: ReconcilerDeps): () => void {
  const clock = deps.clock ?? systemClock;
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const lease = await deps.coord
        .acquireLease(RECONCILER_SCOPE, deps.controllerId, LEASE_TTL_MS)
        // coordination down: skip this round, the next one tries again
        .catch(() => null);
      if (!lease) return;
      await reconcileOnce(deps);
    } catch (err) {
      deps.log.warn({ err }, "deployment reconciler round failed; next round retries");
    } finally {
      running = false;
    }
  };
  void round();
  const timer = clock.setInterval(() => void round(), deps.intervalMs, { unref: true });
  return () => clock.clearInterval(timer);
}

/** One bounded pass; returns how many active deployments it saw and how many it ended. */
export async function reconcileOnce(
  deps: Pick<ReconcilerDeps, "store" | "groups" | "abandon" | "nudge" | "log">,
): Promise<{ seen: number; abandoned: number }> {
  const active = await deps.store
    .collection<DeploymentDoc>(DEPLOYMENTS)
    .find({ state: { $in: [...ACTIVE_STATES] } }, { sort: [["updatedAt", 1]], limit: RECONCILER_SCAN });
  if (active.length === 0) return { seen: 0, abandoned: 0 };
  const names = [...new Set(active.map((d) => d.groupName))];
  const existing = await deps.groups.existing(names);
  let abandoned = 0;
  for (const doc of active) {
    if (existing.has(doc.groupName)) continue;
    await deps.abandon(doc, `group "${doc.groupName}" was deleted`);
    deps.log.warn(
      { group: doc.groupName, revision: doc.revision },
      "deployment of a deleted group ended FAILED",
    );
    abandoned++;
  }
  if (abandoned < active.length) deps.nudge();
  return { seen: active.length, abandoned };
}
