import type { ControllerConfig } from "../../config/controller-config.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { startDeploymentReconciler } from "../deployments/deployment-reconciler.ts";
import { DeploymentService } from "../deployments/deployment-service.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { InstanceWiring } from "../instances/wiring.ts";
import type { LeaseGateOptions } from "../lease-gate.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { SchedulerLoop } from "../scheduler/loop/index.ts";
import type { InstanceMetrics } from "../workload/instance-metrics.ts";
import type { BootBase } from "./base.ts";
import type { DesiredState } from "./desired-state-wiring.ts";
import type { NodeLink, NodeLiveness } from "./node-link-wiring.ts";
import type { Steps } from "./start-sequence.ts";

export interface Scheduling {
  deployments: DeploymentService;
  scheduler: SchedulerLoop;
}

/**
 * Deployments and the scheduler loop, which need each other: the service nudges the loop, the loop
 * rolls a failed deployment back through the service. Constructed only; registered on the sequence
 * are the rollout nudges (instance state changes), the deployment reconciler and, with `addLoop`,
 * the loop itself, which boot places after the daemon listener.
 */
export function wireScheduling(
  base: BootBase,
  deps: {
    lease: LeaseGateOptions;
    events: EventBus;
    metrics: Metrics;
    audit: AuditLog;
    desired: Pick<DesiredState, "groups" | "templates" | "maintenance">;
    instances: Pick<InstanceWiring, "instances" | "lifecycle">;
    link: Pick<NodeLink, "nodes">;
    liveness: Pick<NodeLiveness, "shutdowns">;
    instanceMetrics: InstanceMetrics;
    config: ControllerConfig["scheduler"];
  },
  steps: Steps,
): Scheduling {
  const { store, coord, controllerId, log, clock } = base;
  const { events, metrics, config } = deps;
  const deployments = new DeploymentService({
    store,
    groups: deps.desired.groups,
    instances: deps.instances.instances,
    templates: deps.desired.templates,
    events,
    lease: deps.lease,
    evaluationIntervalSeconds: config.evaluationIntervalSeconds,
    metrics,
    clock,
    // the loop is built next; a nudge only comes once the service is in use, after start-up
    nudge: () => scheduler.nudge(),
  });
  const scheduler = new SchedulerLoop({
    deployments: {
      autoRollback: (failed) => deployments.autoRollback(failed),
      audit: (entry) =>
        deps.audit.record({
          actor: "system",
          action: entry.action,
          resourceType: "deployment",
          resourceId: entry.resourceId,
          details: entry.details,
          ip: "",
          requestId: "",
        }),
    },
    store,
    instanceRecords: deps.instances.instances,
    coord,
    controllerId,
    maintenance: deps.desired.maintenance,
    events,
    metrics,
    log: log.child({ component: "scheduler" }),
    lifecycle: deps.instances.lifecycle,
    nodes: deps.link.nodes,
    shutdowns: deps.liveness.shutdowns,
    instanceMetrics: deps.instanceMetrics,
    intervalMs: config.evaluationIntervalSeconds * 1000,
    scalingCooldownSeconds: config.scalingCooldownSeconds,
    cpuHardLimit: config.cpuHardLimit,
  });
  steps.add("rollout nudges", () => {
    const nudges = events.on("INSTANCE_STATE_CHANGED", (event) =>
      scheduler.instanceChanged(event.payload.group, event.payload.newState),
    );
    return () => nudges.unsubscribe();
  });
  steps.add("deployment reconciler", () =>
    startDeploymentReconciler({
      store,
      groups: deps.desired.groups,
      coord,
      controllerId,
      log: log.child({ component: "deployments" }),
      clock,
      intervalMs: Math.max(5_000, config.evaluationIntervalSeconds * 2000),
      abandon: (doc, reason) => deployments.abandon(doc, reason),
      nudge: () => scheduler.nudge(),
    }),
  );
  return { deployments, scheduler };
}

/** The loop's ticks, started once daemons can connect (their reports open the convergence gate). */
export function addSchedulerLoop(scheduler: SchedulerLoop, steps: Steps): void {
  steps.add("scheduler loop", () => {
    scheduler.start();
    return () => scheduler.stop();
  });
}
