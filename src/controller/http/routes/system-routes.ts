import { Type as T } from "@sinclair/typebox";
import type { Coordination } from "../../../coord/port.ts";
import { type Clock, systemClock } from "../../../core/clock.ts";
import type { DurableStore } from "../../../store/port.ts";
import { versionInfo } from "../../../version.ts";
import type { RouteTable } from "../route-table.ts";

const UpDown = T.Union([T.Literal("UP"), T.Literal("DOWN")]);
const Health = T.Object({
  status: T.Literal("UP"),
  controllerId: T.String(),
  profile: T.String(),
  version: T.String(),
  uptimeSeconds: T.Integer({ minimum: 0 }),
});
/** Readiness answers this body with 200 (UP) and with 503 (DOWN), never the error envelope. */
const Ready = T.Object({
  status: UpDown,
  checks: T.Object({ store: UpDown, coordination: UpDown, restore: UpDown, startup: T.Optional(UpDown) }),
  reason: T.Optional(T.String()),
  store: T.String(),
  coordinationKind: T.String(),
});

export interface SystemDeps {
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  profile: string;
  startedAt: number;
  clock?: Pick<Clock, "now">;
  /** why the store must not be served (a restore running or interrupted), else null */
  restoreReason?: () => string | null;
  /** what is still starting (the local daemon of `prexor up`), else null */
  startupReason?: () => string | null;
}

async function probe(fn: () => Promise<void>): Promise<"UP" | "DOWN"> {
  try {
    await fn();
    return "UP";
  } catch {
    // the probe's answer is the status; the failure itself is the store's or coordination's to log
    return "DOWN";
  }
}

/**
 * Liveness says the process serves HTTP; readiness says it can do its job (store and coordination
 * reachable). Load balancers route on readiness; supervisors restart on liveness.
 */
export function systemRoutes(table: RouteTable, deps: SystemDeps): void {
  const clock = deps.clock ?? systemClock;
  const health = () => ({
    status: "UP" as const,
    controllerId: deps.controllerId,
    profile: deps.profile,
    version: versionInfo().version,
    uptimeSeconds: Math.floor((clock.now() - deps.startedAt) / 1000),
  });
  const ready = async ({ set }: { set: { status?: number | string } }) => {
    // Bounded: a paused dependency answers DOWN within the probe deadline instead of holding the
    // load balancer's check for the driver's own timeout.
    const [store, coordination] = await Promise.all([
      probe(() => withDeadline(deps.store.ping(), READY_PROBE_MS)),
      probe(() => withDeadline(deps.coord.ping(), READY_PROBE_MS)),
    ]);
    const restoring = deps.restoreReason?.() ?? null;
    const starting = deps.startupReason?.() ?? null;
    const up = store === "UP" && coordination === "UP" && restoring === null && starting === null;
    set.status = up ? 200 : 503;
    const reason = restoring ?? (starting !== null ? `starting: ${starting}` : null);
    return {
      status: up ? "UP" : "DOWN",
      checks: {
        store,
        coordination,
        restore: restoring === null ? "UP" : "DOWN",
        ...(starting !== null ? { startup: "DOWN" as const } : {}),
      },
      ...(reason !== null ? { reason } : {}),
      store: deps.store.kind,
      coordinationKind: deps.coord.kind,
    };
  };
  table
    .add({
      method: "GET",
      path: "/api/v1/system/health",
      response: Health,
      access: "public",
      tag: "system",
      summary: "Liveness",
      handler: health,
    })
    .add({
      method: "GET",
      path: "/health",
      response: Health,
      access: "public",
      tag: "system",
      summary: "Liveness (probe path)",
      handler: health,
    })
    .add({
      method: "GET",
      path: "/api/v1/system/ready",
      response: Ready,
      status: [200, 503],
      access: "public",
      tag: "system",
      summary: "Readiness",
      handler: ready,
    })
    .add({
      method: "GET",
      path: "/ready",
      response: Ready,
      status: [200, 503],
      access: "public",
      tag: "system",
      summary: "Readiness (probe path)",
      handler: ready,
    })
    .add({
      method: "GET",
      path: "/api/v1/system/version",
      response: T.Object({
        version: T.String(),
        gitCommit: T.String(),
        buildDate: T.String(),
        protocolVersion: T.Integer(),
        runtime: T.String(),
        os: T.String(),
        arch: T.String(),
      }),
      access: "public",
      tag: "system",
      summary: "Software and protocol version",
      handler: () => versionInfo(),
    });
}

/** Each readiness probe gets this long; `/ready` answers well within a second. */
const READY_PROBE_MS = 700;

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
