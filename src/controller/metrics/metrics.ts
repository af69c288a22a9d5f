import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry, Summary } from "prom-client";
import { systemClock } from "../../core/clock.ts";

/** Gauges whose value lives elsewhere and is read when Prometheus scrapes. */
export type SampledGauge =
  | "nodes"
  | "instances"
  | "players"
  | "groups"
  | "crashes"
  | "sseClients"
  | "sseReplayBufferSize"
  | "daemonSessions"
  | "pendingTransfers"
  | "nodeDrains"
  | "startRetries";

export type DeliveryOutcome = "delivered" | "dropped";

/**
 * The controller's metrics, as calls named for what happened. Code that records something takes
 * a `Metrics` and never touches prom-client; with `metrics.enabled: false` it gets the no-op
 * implementation and `/metrics` is not served.
 */
export interface Metrics {
  readonly enabled: boolean;
  /** one answered HTTP request; `status` undefined when no response was produced */
  httpRequest(method: string, status: number | undefined, seconds: number): void;
  /** one scheduler evaluation pass; a failed pass does not move the last-tick clock */
  schedulerTick(pass: { seconds: number; ok: boolean; groupsEvaluated?: number }): void;
  compositionPlanningFailed(): void;
  leaseAcquired(): void;
  leaseRenewed(): void;
  leaseContended(): void;
  jwtRevoked(): void;
  /** one backup run (scheduled or on request); a failure does not move the last-success clock */
  backupRun(run: { seconds: number; ok: boolean }): void;
  /** `payloadCase`: the lower-case name of the frame's oneof field */
  /** this controller's view of a dependency (dependency-watch.ts) */
  dependency(dependency: string, up: boolean): void;
  daemonMessageIn(payloadCase: string): void;
  daemonMessageOut(payloadCase: string, outcome: DeliveryOutcome): void;
  /** a PERMANENT plan/start failure paused a group (also counts as an automatic pause) */
  groupPaused(code: string): void;
  /** the crash-loop detector paused a group */
  crashLoopPaused(): void;
  /** a deployment ended (COMPLETED, ROLLED_BACK or FAILED) after `seconds` */
  deploymentEnded(outcome: string, seconds: number): void;
  /** Registers the reader of a sampled gauge (last registration wins). */
  sample(gauge: SampledGauge, read: () => number | Promise<number>): void;
  /** The exposition, text format 0.0.4. */
  render(): Promise<{ contentType: string; body: string }>;
}

const SAMPLED: Record<SampledGauge, { name: string; help: string }> = {
  nodes: { name: "prexorcloud_nodes_total", help: "Connected nodes" },
  instances: { name: "prexorcloud_instances_total", help: "Running instances" },
  players: { name: "prexorcloud_players_total", help: "Online players" },
  groups: { name: "prexorcloud_groups_total", help: "Groups" },
  crashes: {
    name: "prexorcloud_crashes_total",
    help: "Crash records kept (30 days; a gauge: use increase(), not rate())",
  },
  sseClients: { name: "prexorcloud_sse_clients_connected", help: "General event stream clients" },
  sseReplayBufferSize: {
    name: "prexorcloud_sse_replay_buffer_size",
    help: "Events in the SSE replay buffer",
  },
  // Read from the session registry rather than counted up and down, so it cannot drift.
  daemonSessions: { name: "prexorcloud_grpc_daemon_sessions_active", help: "Open daemon streams" },
  pendingTransfers: {
    name: "prexorcloud_workflows_pending_transfers",
    help: "Durable player transfer intents waiting for their proxy",
  },
  nodeDrains: { name: "prexorcloud_workflows_node_drains", help: "Node drains in progress" },
  startRetries: {
    name: "prexorcloud_workflows_start_retries",
    help: "Refused starts waiting for their next attempt",
  },
};

const METHODS = new Set(["get", "post", "put", "patch", "delete", "head", "options"]);

export function statusClass(status: number | undefined): string {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return "unknown";
  return `${Math.floor(status / 100)}xx`;
}

/** Lower-case, and one bucket for anything exotic so a client cannot mint label values. */
export function methodLabel(method: string): string {
  const lower = method.toLowerCase();
  return METHODS.has(lower) ? lower : "other";
}

/**
 * The product names some gauges `…_total`, which Prometheus' linter reserves for counters.
 * Exposing those families as `untyped` keeps the documented names (and the alerts and dashboards
 * built on them) while staying lint-clean; Prometheus stores untyped samples exactly as gauges.
 * prom-client's own `nodejs_active_*_total` gauges get the same treatment.
 */
export function untypeTotalGauges(text: string): string {
  return text.replace(/^# TYPE (\S+_total) gauge$/gm, "# TYPE $1 untyped");
}

class PromMetrics implements Metrics {
  readonly enabled = true;
  private readonly registry = new Registry();
  private readonly readers = new Map<SampledGauge, () => number | Promise<number>>();
  private readonly httpTotal: Counter<"method" | "status_class">;
  private readonly httpDuration: Histogram<"method" | "status_class">;
  private readonly tickDuration: Histogram;
  private readonly tickFailures: Counter;
  private readonly groupsEvaluated: Summary;
  private readonly planningFailures: Counter;
  private readonly leaseAcquisitions: Counter;
  private readonly leaseRenewals: Counter;
  private readonly leaseContentions: Counter;
  private readonly jwtRevocations: Counter;
  private readonly backupDuration: Histogram;
  private readonly deploymentsTotal: Counter<"outcome">;
  private readonly deploymentDuration: Histogram<"outcome">;
  private readonly backupFailures: Counter;
  private readonly backupLastSuccess: Gauge;
  private readonly dependencyUp: Gauge;
  private readonly daemonIn: Counter<"payload_case">;
  private readonly daemonOut: Counter<"payload_case" | "outcome">;
  private readonly groupPauses: Counter<"code">;
  private readonly crashLoops: Counter;
  private lastTickOkAt: number | undefined;

  constructor(private readonly now: () => number) {
    const registers = [this.registry];
    this.httpTotal = new Counter({
      name: "prexorcloud_http_requests_total",
      help: "HTTP requests answered",
      labelNames: ["method", "status_class"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "prexorcloud_http_request_duration_seconds",
      help: "HTTP request latency until the response head",
      labelNames: ["method", "status_class"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.tickDuration = new Histogram({
      name: "prexorcloud_scheduler_tick_duration_seconds",
      help: "Duration of one scheduler evaluation pass",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.tickFailures = new Counter({
      name: "prexorcloud_scheduler_tick_failures_total",
      help: "Scheduler passes that threw",
      registers,
    });
    this.groupsEvaluated = new Summary({
      name: "prexorcloud_scheduler_groups_evaluated",
      help: "Groups evaluated per scheduler pass",
      percentiles: [0.5, 0.95, 0.99],
      registers,
    });
    const lag = this;
    new Gauge({
      name: "prexorcloud_scheduler_last_tick_lag_millis",
      help: "Milliseconds since the last successful scheduler pass (0 before the first)",
      registers,
      collect() {
        this.set(lag.lastTickOkAt === undefined ? 0 : Math.max(0, lag.now() - lag.lastTickOkAt));
      },
    });
    // The name seed 001 §8's alert rules use; the `_millis` one is kept for existing dashboards.
    new Gauge({
      name: "prexorcloud_scheduler_last_tick_lag_ms",
      help: "Milliseconds since the last successful scheduler pass (0 before the first)",
      registers,
      collect() {
        this.set(lag.lastTickOkAt === undefined ? 0 : Math.max(0, lag.now() - lag.lastTickOkAt));
      },
    });
    this.planningFailures = new Counter({
      name: "prexorcloud_composition_planning_failures_total",
      help: "Composition plan builds that failed",
      registers,
    });
    this.leaseAcquisitions = new Counter({
      name: "prexorcloud_coordination_lease_acquisitions_total",
      help: "Leases newly acquired (renewals not counted)",
      registers,
    });
    this.leaseRenewals = new Counter({
      name: "prexorcloud_coordination_lease_renewals_total",
      help: "Lease renewals",
      registers,
    });
    this.leaseContentions = new Counter({
      name: "prexorcloud_coordination_lease_contentions_total",
      help: "Lease acquisitions lost to another holder",
      registers,
    });
    this.jwtRevocations = new Counter({
      name: "prexorcloud_coordination_jwt_revocations_total",
      help: "JWT revocations written",
      registers,
    });
    this.backupDuration = new Histogram({
      name: "prexorcloud_backup_duration_seconds",
      help: "Duration of backup runs",
      buckets: [0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.backupFailures = new Counter({
      name: "prexorcloud_backup_failures_total",
      help: "Backup runs that failed",
      registers,
    });
    this.backupLastSuccess = new Gauge({
      name: "prexorcloud_backup_last_success_timestamp_seconds",
      help: "When the last backup on this controller succeeded (0: none since start)",
      registers,
    });
    this.dependencyUp = new Gauge({
      name: "prexorcloud_dependency_up",
      help: "1 while this controller reaches the dependency (store, coordination), 0 during an outage",
      labelNames: ["dependency"],
      registers,
    });
    this.daemonIn = new Counter({
      name: "prexorcloud_grpc_daemon_messages_in_total",
      help: "Frames received from daemons",
      labelNames: ["payload_case"],
      registers,
    });
    this.daemonOut = new Counter({
      name: "prexorcloud_grpc_daemon_messages_out_total",
      help: "Frames sent (or dropped) towards daemons",
      labelNames: ["payload_case", "outcome"],
      registers,
    });
    this.groupPauses = new Counter({
      name: "prexorcloud_group_pauses_total",
      help: "Groups paused by a PERMANENT plan or start failure, by failure code",
      labelNames: ["code"],
      registers,
    });
    // Seed 001 §8's must-page rule counts automatic pauses under this name.
    this.crashLoops = new Counter({
      name: "prexorcloud_crash_loops_total",
      help: "Automatic group pauses (crash loops and PERMANENT failures)",
      registers,
    });
    this.deploymentsTotal = new Counter({
      name: "prexorcloud_deployments_total",
      help: "Deployments ended, by outcome (COMPLETED, ROLLED_BACK, FAILED)",
      labelNames: ["outcome"],
      registers,
    });
    this.deploymentDuration = new Histogram({
      name: "prexorcloud_deployment_duration_seconds",
      help: "Time from a deployment's trigger to its end, by outcome",
      labelNames: ["outcome"],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
      registers,
    });
    for (const [key, def] of Object.entries(SAMPLED) as Array<
      [SampledGauge, (typeof SAMPLED)[SampledGauge]]
    >) {
      const readers = this.readers;
      new Gauge({
        name: def.name,
        help: def.help,
        registers,
        async collect() {
          const read = readers.get(key);
          if (!read) return;
          try {
            this.set(await read());
          } catch {
            // Source unreachable (e.g. Valkey down during a scrape): keep the last value.
          }
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(method: string, status: number | undefined, seconds: number): void {
    const labels = { method: methodLabel(method), status_class: statusClass(status) };
    this.httpTotal.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  schedulerTick(pass: { seconds: number; ok: boolean; groupsEvaluated?: number }): void {
    this.tickDuration.observe(pass.seconds);
    if (pass.groupsEvaluated !== undefined) this.groupsEvaluated.observe(pass.groupsEvaluated);
    if (pass.ok) this.lastTickOkAt = this.now();
    else this.tickFailures.inc();
  }

  compositionPlanningFailed(): void {
    this.planningFailures.inc();
  }
  leaseAcquired(): void {
    this.leaseAcquisitions.inc();
  }
  leaseRenewed(): void {
    this.leaseRenewals.inc();
  }
  leaseContended(): void {
    this.leaseContentions.inc();
  }
  jwtRevoked(): void {
    this.jwtRevocations.inc();
  }
  backupRun(run: { seconds: number; ok: boolean }): void {
    this.backupDuration.observe(run.seconds);
    if (run.ok) this.backupLastSuccess.set(this.now() / 1000);
    else this.backupFailures.inc();
  }
  dependency(dependency: string, up: boolean): void {
    this.dependencyUp.set({ dependency }, up ? 1 : 0);
  }
  daemonMessageIn(payloadCase: string): void {
    this.daemonIn.inc({ payload_case: payloadCase.toLowerCase() });
  }
  daemonMessageOut(payloadCase: string, outcome: DeliveryOutcome): void {
    this.daemonOut.inc({ payload_case: payloadCase.toLowerCase(), outcome });
  }

  groupPaused(code: string): void {
    this.groupPauses.inc({ code });
    this.crashLoops.inc();
  }
  crashLoopPaused(): void {
    this.crashLoops.inc();
  }
  deploymentEnded(outcome: string, seconds: number): void {
    this.deploymentsTotal.inc({ outcome });
    this.deploymentDuration.observe({ outcome }, Math.max(0, seconds));
  }

  sample(gauge: SampledGauge, read: () => number | Promise<number>): void {
    this.readers.set(gauge, read);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: untypeTotalGauges(await this.registry.metrics()) };
  }
}

/** `metrics.enabled: false`: no collector at all, every call a no-op. */
class DisabledMetrics implements Metrics {
  readonly enabled = false;
  httpRequest(): void {}
  schedulerTick(): void {}
  compositionPlanningFailed(): void {}
  leaseAcquired(): void {}
  leaseRenewed(): void {}
  leaseContended(): void {}
  jwtRevoked(): void {}
  backupRun(): void {}
  dependency(): void {}
  daemonMessageIn(): void {}
  daemonMessageOut(): void {}
  groupPaused(): void {}
  crashLoopPaused(): void {}
  deploymentEnded(): void {}
  sample(): void {}
  async render(): Promise<{ contentType: string; body: string }> {
    throw new Error("metrics are disabled (metrics.enabled: false)");
  }
}

/** Each call builds its own registry, so several controllers in one process never share series. */
export function createMetrics(options: { enabled: boolean; now?: () => number }): Metrics {
  return options.enabled ? new PromMetrics(options.now ?? systemClock.now) : new DisabledMetrics();
}
