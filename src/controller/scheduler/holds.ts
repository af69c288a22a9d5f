import type { FleetIndex } from "./fleet-index.ts";
import type { SchedGroup } from "./types.ts";

/**
 * Why a group places nothing this tick. A pause is deliberate and lasts until someone (operator or
 * crash-loop backoff) lifts it; a wait clears by itself once its condition does.
 */
export interface Hold {
  readonly kind: "pause" | "wait";
  readonly reason: string;
}

/** The first hold that applies, in the documented order of skip reasons. */
export function holdFor(
  group: SchedGroup,
  index: FleetIndex,
  globalMaintenance: boolean,
  cycle: string | undefined,
): Hold | undefined {
  if (globalMaintenance) return { kind: "pause", reason: "global maintenance" };
  if (group.maintenance) return { kind: "pause", reason: "maintenance mode" };
  if (group.paused) return { kind: "pause", reason: group.pauseReason ?? "crash loop paused" };
  if (cycle !== undefined) return { kind: "wait", reason: cycle };
  for (const dep of group.dependsOn) {
    if (index.running(dep) === 0)
      return { kind: "wait", reason: `dependency ${dep} has no running instances` };
  }
  return undefined;
}
