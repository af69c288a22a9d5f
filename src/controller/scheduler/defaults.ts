import type { SchedGroup, SchedulerSettings } from "./types.ts";

/** Fixed by the product, not configurable: operators compare placements across installations. */
export const SCORE_WEIGHTS = {
  memory: 0.35,
  cpu: 0.25,
  instances: 0.15,
  ports: 0.1,
  spread: 0.15,
} as const;

/**
 * Headroom defaults to 0 because the daemon already advertises only part of the host's RAM
 * (`resources.maxMemoryMb`, 80 % of physical by default); a second reserve would be counted twice.
 */
export const DEFAULT_SETTINGS: SchedulerSettings = {
  scalingCooldownSeconds: 60,
  memoryHeadroomMb: 0,
  cpuHardLimit: 0.95,
  tpsDegradedFloor: 18,
  memoryWatermark: 0.9,
  cpuWatermark: 0.85,
  diskLowWatermarkMb: 1024,
};

export function resolveSettings(partial: Partial<SchedulerSettings> | undefined): SchedulerSettings {
  return partial === undefined ? DEFAULT_SETTINGS : { ...DEFAULT_SETTINGS, ...partial };
}

export const DEFAULT_GROUP: Omit<SchedGroup, "name"> = {
  scalingMode: "DYNAMIC",
  minInstances: 0,
  maxInstances: 10,
  maxPlayers: 100,
  scaleUpThreshold: 0.8,
  scaleDownAfterSeconds: 300,
  scaleCooldownSeconds: 60,
  memoryMb: 1024,
  cpuReservation: 0,
  diskReservationMb: 0,
  portRangeStart: 30000,
  portRangeEnd: 30100,
  priority: 0,
  startupWeight: 0,
  dependsOn: [],
  nodeAffinity: [],
  nodeAntiAffinity: [],
  spreadConstraint: "",
  staticInstanceNames: [],
  maintenance: false,
  paused: false,
};

/** A scheduler group with the product defaults for every field not given. */
export function schedGroup(fields: Partial<SchedGroup> & { readonly name: string }): SchedGroup {
  return { ...DEFAULT_GROUP, ...fields };
}
