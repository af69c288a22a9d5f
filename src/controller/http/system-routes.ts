import { Elysia } from "elysia";
import type { Coordination } from "../../coord/port.ts";
import type { DurableStore } from "../../store/port.ts";
import { versionInfo } from "../../version.ts";

export interface SystemDeps {
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  profile: string;
  startedAt: number;
}

async function probe(fn: () => Promise<void>): Promise<"UP" | "DOWN"> {
  try {
    await fn();
    return "UP";
  } catch {
    return "DOWN";
  }
}

/**
 * Liveness says the process serves HTTP; readiness says it can do its job (store and coordination
 * reachable). Load balancers route on readiness; orchestrators restart on liveness.
 */
export function systemRoutes(deps: SystemDeps) {
  const health = () => ({
    status: "UP" as const,
    controllerId: deps.controllerId,
    profile: deps.profile,
    version: versionInfo().version,
    uptimeSeconds: Math.floor((Date.now() - deps.startedAt) / 1000),
  });
  const ready = async ({ set }: { set: { status?: number | string } }) => {
    const [store, coordination] = await Promise.all([
      probe(() => deps.store.ping()),
      probe(() => deps.coord.ping()),
    ]);
    const up = store === "UP" && coordination === "UP";
    set.status = up ? 200 : 503;
    return {
      status: up ? "UP" : "DOWN",
      checks: { store, coordination },
      store: deps.store.kind,
      coordinationKind: deps.coord.kind,
    };
  };
  return new Elysia()
    .get("/api/v1/system/health", health)
    .get("/health", health)
    .get("/api/v1/system/ready", ready)
    .get("/ready", ready)
    .get("/api/v1/system/version", () => versionInfo());
}
