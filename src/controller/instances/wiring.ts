import { type Clock, systemClock } from "../../core/clock.ts";
import { DEFAULT_CRASH_LOOP_CONFIG } from "../../core/crash/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore } from "../../store/port.ts";
import type { CatalogEntry } from "../catalog/catalog-service.ts";
import { CrashLoopGuard } from "../crashes/crash-loop-guard.ts";
import { CrashService } from "../crashes/crash-service.ts";
import { RevisionSpecs } from "../deployments/revision-specs.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { GroupPauses, type PauseMetrics } from "../groups/group-pauses.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { LeaseGateOptions } from "../lease-gate.ts";
import type { NetworkSpec } from "../networks/network-service.ts";
import type { NodeService } from "../nodes/node-service.ts";
import type { TemplateFiles } from "../templates/template-files.ts";
import type { TemplateService } from "../templates/template-service.ts";
import { WorkloadAuth } from "../workload/workload-auth.ts";
import { WorkloadTokens } from "../workload/workload-tokens.ts";
import { ArtifactServer } from "./artifact-server.ts";
import { ConsoleBuffer } from "./console-buffer.ts";
import { repairLimitsFor } from "./convergence-repairs.ts";
import { GroupStarter } from "./group-starter.ts";
import { routeInstanceFrames } from "./instance-frames.ts";
import { InstanceService } from "./instance-service.ts";
import { LifecycleReconciler } from "./lifecycle-reconciler.ts";
import { RecordPruner, type Retained } from "./record-pruner.ts";
import { StoreInstanceLifecycle } from "./store-instance-lifecycle.ts";

export interface InstanceWiring {
  instances: InstanceService;
  lifecycle: StoreInstanceLifecycle;
  reconciler: LifecycleReconciler;
  crashes: CrashService;
  /** the crash-loop pause the scheduler loop reads: `crashLoops.isPaused(group)` */
  crashLoops: CrashLoopGuard;
  /** PERMANENT-failure pauses; `group resume` lifts them and crash-loop pauses */
  pauses: GroupPauses;
  starter: GroupStarter;
  console: ConsoleBuffer;
  pruner: RecordPruner;
  auth: WorkloadAuth;
  lease: LeaseGateOptions;
  /**
   * Starts what runs on its own (the crash-loop guard, the start-retry pump, the daemon frame
   * routing, the record pruner, the terminal-state cleanup); returns how to stop it all again.
   */
  start(): () => void;
}

/** The instance side of the controller constructed (nothing runs until `start`), for boot.ts. */
export function wireInstances(deps: {
  store: DurableStore;
  events: EventPublisher;
  log: Logger;
  groups: GroupService;
  catalog: { resolve(platform: string, version: string): Promise<CatalogEntry> };
  templates: TemplateService;
  templateFiles: TemplateFiles;
  artifactDir: string;
  sessions: SessionRegistry;
  nodes: NodeService;
  lease: LeaseGateOptions;
  crashLoop: { crashLoopThreshold: number; crashLoopWindowSeconds: number };
  controllerUrl: () => string;
  acceptEula?: boolean;
  networks?: { list(): Promise<NetworkSpec[]> };
  forwardingSecret?: () => Promise<string>;
  /** the daemons' heartbeat period: lost commands are sent again after two of them */
  heartbeatIntervalMs: number;
  metrics?: PauseMetrics & { compositionPlanningFailed(): void; crashLoopPaused(): void };
  /** the player journey's retention, pruned with the instance records */
  journey: Retained;
  clock?: Clock;
}): InstanceWiring {
  const log = deps.log.child({ component: "instances" });
  const clock = deps.clock ?? systemClock;
  const now = () => clock.now();
  const instances = new InstanceService(deps.store, deps.events, log, now);
  const tokens = new WorkloadTokens(deps.store);
  const console = new ConsoleBuffer();
  const crashLoops = new CrashLoopGuard(
    deps.store,
    deps.events,
    {
      ...DEFAULT_CRASH_LOOP_CONFIG,
      threshold: deps.crashLoop.crashLoopThreshold,
      windowSeconds: deps.crashLoop.crashLoopWindowSeconds,
    },
    log,
    now,
    () => deps.metrics?.crashLoopPaused(),
  );
  const pauses = new GroupPauses(deps.store, crashLoops, deps.events, log, deps.metrics);
  const lifecycle = new StoreInstanceLifecycle({
    store: deps.store,
    groups: deps.groups,
    revisions: new RevisionSpecs(deps.store, deps.groups),
    catalog: deps.catalog,
    templates: deps.templates,
    sessions: deps.sessions,
    nodes: deps.nodes,
    controllerUrl: deps.controllerUrl,
    now,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.acceptEula !== undefined ? { acceptEula: deps.acceptEula } : {}),
    ...(deps.networks ? { networks: deps.networks } : {}),
    ...(deps.forwardingSecret ? { forwardingSecret: deps.forwardingSecret } : {}),
    leaseTokenOf: (scope) => deps.lease.coord.fencingToken(scope),
    instances,
    tokens,
    console,
    log,
    onStartFailure: (group, failure) =>
      failure.permanent ? pauses.pause(group, failure) : crashLoops.record(group, now()),
  });
  const reconciler = new LifecycleReconciler(
    instances,
    lifecycle,
    log,
    now,
    repairLimitsFor(deps.heartbeatIntervalMs),
  );
  const crashes = new CrashService(deps.store, instances, crashLoops, deps.events, log, now);
  const artifacts = new ArtifactServer({
    sessions: deps.sessions,
    templateFiles: deps.templateFiles,
    artifactDir: deps.artifactDir,
    log,
  });
  const starter = new GroupStarter({
    nodes: deps.nodes,
    groups: deps.groups,
    lease: deps.lease,
    instances,
    lifecycle,
    crashLoops,
    now,
  });
  const pruner = new RecordPruner({
    instances,
    plans: lifecycle,
    crashes,
    journey: deps.journey,
    coord: deps.lease.coord,
    controllerId: deps.lease.holder,
    console,
    log,
  });
  return {
    instances,
    lifecycle,
    reconciler,
    crashes,
    crashLoops,
    pauses,
    starter,
    console,
    pruner,
    auth: new WorkloadAuth(tokens),
    lease: deps.lease,
    start() {
      crashLoops.start();
      // A stopped or crashed instance's plugin has nothing left to say.
      const stopRevoking = instances.onTerminal((doc) => {
        void tokens.revoke(doc._id).catch(() => undefined);
        // best effort: a token left behind dies with its instance's record, a retry finds the instance terminal
        void lifecycle.retries.clear(doc._id).catch(() => undefined);
      });
      lifecycle.startRetryPump();
      const stopRouting = routeInstanceFrames({
        sessions: deps.sessions,
        lifecycle,
        crashes,
        console,
        artifacts,
        log,
      });
      pruner.start();
      return () => {
        pruner.stop();
        stopRouting();
        lifecycle.close();
        stopRevoking();
        crashLoops.stop();
      };
    },
  };
}
