import type { DeploymentState, RoutingSide, Strategy } from "./rollout-types.ts";

/** What routing needs of a deployment record. */
export interface RoutingDeployment {
  readonly groupName: string;
  readonly revision: number;
  readonly sameAs: readonly number[];
  readonly strategy: Strategy;
  readonly state: DeploymentState;
  readonly routing?: RoutingSide;
}

export interface RoutedInstance {
  readonly group: string;
  readonly deploymentRevision?: number;
}

/**
 * Which instances proxies may send players to, as the group's active BLUE_GREEN deployment records
 * it: before the switch only blue (older revisions), after it only green (the deployment's revision).
 * The proxy route tables and the plugin/proxy placement answers both read this one predicate over the
 * same record, so they change together. Groups without an active BLUE_GREEN deployment are unaffected.
 */
export function routableFilter(deployments: readonly RoutingDeployment[]): (i: RoutedInstance) => boolean {
  const sides = new Map<string, { revision: number; sameAs: Set<number>; side: RoutingSide }>();
  for (const d of deployments) {
    if (d.strategy !== "BLUE_GREEN" || (d.state !== "IN_PROGRESS" && d.state !== "PAUSED")) continue;
    sides.set(d.groupName, { revision: d.revision, sameAs: new Set(d.sameAs), side: d.routing ?? "blue" });
  }
  return (i) => {
    const entry = sides.get(i.group);
    if (entry === undefined) return true;
    const revision = i.deploymentRevision ?? 0;
    const green = revision >= entry.revision || entry.sameAs.has(revision);
    return entry.side === "green" ? green : !green;
  };
}
