import type { Coordination } from "../../../coord/port.ts";
import { systemClock } from "../../../core/clock.ts";
import type { Logger } from "../../../log/logger.ts";
import { DeploymentProgress, type ProgressDeps } from "../../deployments/deployment-progress.ts";
import type { EventPublisher } from "../../events/event-types.ts";
import type { InstanceLifecycle } from "../../instances/instance-lifecycle.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import type { NodeService } from "../../nodes/node-service.ts";
import type { NodeShutdowns } from "../../nodes/node-shutdowns.ts";
import { explainPlacement } from "../explain.ts";
import { scheduleTick } from "../tick.ts";
import type { PlacementExplanation, RolloutOutcome, TickInput } from "../types.ts";
import { ConvergenceGate, type GateVerdict } from "./convergence-gate.ts";
import { CooldownBook } from "./cooldown-book.ts";
import { DrainWorkflow } from "./drain-workflow.ts";
import {
  type ActionOutcome,
  type GroupExecution,
  GroupExecutor,
  isSideEffect,
  type SideEffect,
} from "./group-executor.ts";
import { ScopedLeases } from "./scoped-leases.ts";
import { type GroupWait, REPORTED_ACTIONS_MAX, type TickReport } from "./tick-report.ts";
import { rolloutsOf, type World, WorldReader, type WorldSources } from "./world-reader.ts";

export interface SchedulerLoopOptions extends WorldSources {
  coord: Coordination;
  controllerId: string;
  events: EventPublisher;
  metrics: Metrics;
  log: Logger;
  /** Absent until the lifecycle is wired: the loop then only computes and reports (observe-only). */
  lifecycle?: InstanceLifecycle;
  /** the controller's one node service (drains read and record through it) */
  nodes: NodeService;
  /** Sends the ShutdownNode a finished drain owes; absent, owed shutdowns wait on the node record. */
  shutdowns?: Pick<NodeShutdowns, "deliverPending">;
  /** `scheduler.evaluationIntervalSeconds` in ms; group leases live twice as long. */
  intervalMs: number;
  scalingCooldownSeconds: number;
  /** `scheduler.cpuHardLimit`; the product default when absent */
  cpuHardLimit?: number;
  /** How long after start-up scale-downs and replacements wait for nodes to report (default 15 s). */
  convergenceWindowMs?: number;
  /** Groups carried out at once; the pure core already split ports and memory between them. */
  concurrency?: number;
  now?: () => number;
  /** deployment bookkeeping: auto-rollback and audit of what the loop decides on its own */
  deployments?: Pick<ProgressDeps, "autoRollback" | "audit">;
}

const DEFAULT_CONVERGENCE_WINDOW_MS = 15_000;
/** While a node drains, ticks come at least this often, so instances leave soon after their players. */
const DRAIN_RECONCILE_MS = 5_000;
/** While a deployment is active, ticks come at least this often: a wave waits on the next tick. */
const ROLLOUT_RECONCILE_MS = 1_000;

/**
 * The imperative shell around `scheduleTick`: every interval it reads the world, asks the pure core what
 * to do, and carries that out through the instance lifecycle, one group at a time under the group's
 * lease. Ticks never overlap: the next is scheduled when the previous ends, and `tickOnce` calls queue
 * behind a running one.
 */
export class SchedulerLoop {
  private readonly reader: WorldReader;
  private readonly leases: ScopedLeases;
  private readonly cooldowns: CooldownBook;
  private readonly drains: DrainWorkflow;
  private readonly executor: GroupExecutor | undefined;
  private readonly progress: DeploymentProgress;
  private rolloutsActive = false;
  /** groups with an active deployment as of the last tick: their instance changes bring a tick forward */
  private rolloutGroups = new Set<string>();
  private readonly now: () => number;
  private gate: ConvergenceGate;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  /** a nudge arrived while a tick ran: the next one follows at once */
  private nudged = false;
  private last: TickReport | undefined;

  constructor(private readonly options: SchedulerLoopOptions) {
    this.now = options.now ?? systemClock.now;
    this.reader = new WorldReader(options);
    this.leases = new ScopedLeases(
      { coord: options.coord, store: options.store, holder: options.controllerId },
      options.intervalMs * 2,
    );
    this.cooldowns = new CooldownBook(options);
    this.drains = new DrainWorkflow({
      store: options.store,
      leases: this.leases,
      nodes: options.nodes,
      events: options.events,
      log: options.log,
      ...(options.shutdowns ? { shutdowns: options.shutdowns } : {}),
      ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
    });
    this.executor = options.lifecycle
      ? new GroupExecutor({ lifecycle: options.lifecycle, leases: this.leases, log: options.log })
      : undefined;
    this.gate = new ConvergenceGate(this.now(), options.convergenceWindowMs ?? DEFAULT_CONVERGENCE_WINDOW_MS);
    this.progress = new DeploymentProgress({
      store: options.store,
      leases: this.leases,
      events: options.events,
      log: options.log,
      metrics: options.metrics,
      ...(options.deployments?.autoRollback ? { autoRollback: options.deployments.autoRollback } : {}),
      ...(options.deployments?.audit ? { audit: options.deployments.audit } : {}),
    });
  }

  /** Starts ticking; the first tick runs at once. The convergence window counts from here. */
  start(): void {
    this.stopped = false;
    this.gate = new ConvergenceGate(
      this.now(),
      this.options.convergenceWindowMs ?? DEFAULT_CONVERGENCE_WINDOW_MS,
    );
    if (this.executor === undefined) {
      this.options.log.warn(
        "no instance lifecycle wired: the scheduler computes and reports, but places nothing",
      );
    }
    this.schedule(0);
  }

  /** Stops ticking, waits for a tick in flight, and hands every lease back so a peer takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // the tick reports its own failures; stop only waits for it to end
    await this.running.catch(() => undefined);
    await this.leases.releaseAll();
  }

  lastReport(): TickReport | undefined {
    return this.last;
  }

  /** Leases this loop holds right now, for diagnostics. */
  heldScopes(): string[] {
    return this.leases.scopes();
  }

  /** One tick now, queued behind any tick in flight. */
  tickOnce(): Promise<TickReport> {
    const next = this.running.catch(() => undefined).then(() => this.tick());
    this.running = next;
    return next;
  }

  /** Why each node would or would not take the group's next instance, on a fresh read. */
  async explain(group: string): Promise<PlacementExplanation> {
    const now = this.now();
    const world = await this.reader.read(now);
    return explainPlacement(group, this.inputOf(world, await this.cooldowns.load()));
  }

  /**
   * Brings the next tick forward to now, for changes an operator waits on (a drain request): without
   * it they would wait for the interval. A tick in flight is followed by another at once.
   */
  nudge(): void {
    if (this.stopped) return;
    if (this.timer === undefined) {
      this.nudged = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /**
   * An instance of a group changed state. While the group rolls out, the next wave waits on exactly
   * such a change (a replacement RUNNING, a canary crashed), so the tick comes now, not at the interval.
   */
  instanceChanged(group: string, newState: string): void {
    if (!this.rolloutGroups.has(group)) return;
    if (newState === "RUNNING" || newState === "CRASHED" || newState === "STOPPED") this.nudge();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const began = this.now();
      void this.tickOnce().finally(() => {
        const draining = this.last?.drains.some((d) => d.state === "IN_PROGRESS") ?? false;
        let interval = draining
          ? Math.min(this.options.intervalMs, DRAIN_RECONCILE_MS)
          : this.options.intervalMs;
        if (this.rolloutsActive) interval = Math.min(interval, ROLLOUT_RECONCILE_MS);
        const delay = this.nudged ? 0 : Math.max(0, interval - (this.now() - began));
        this.nudged = false;
        this.schedule(delay);
      });
    }, delayMs);
  }

  private inputOf(world: World, lastScaleAt: Record<string, number>): TickInput {
    return {
      now: world.now,
      groups: world.groups,
      nodes: world.nodes,
      instances: world.instances,
      globalMaintenance: world.globalMaintenance,
      rollouts: rolloutsOf(world),
      lastScaleAt,
      settings: {
        scalingCooldownSeconds: this.options.scalingCooldownSeconds,
        ...(this.options.cpuHardLimit !== undefined ? { cpuHardLimit: this.options.cpuHardLimit } : {}),
      },
    };
  }

  private async tick(): Promise<TickReport> {
    const { log, metrics } = this.options;
    const at = this.now();
    const started = performance.now();
    try {
      const report = await this.evaluate(at, started);
      metrics.schedulerTick({
        seconds: report.durationMs / 1000,
        ok: true,
        groupsEvaluated: report.groupsEvaluated,
      });
      this.last = report;
      return report;
    } catch (err) {
      const durationMs = performance.now() - started;
      const error = (err as Error).message;
      log.error({ err: error }, "scheduler tick failed");
      metrics.schedulerTick({ seconds: durationMs / 1000, ok: false });
      const report: TickReport = {
        at,
        durationMs,
        ok: false,
        error,
        observeOnly: this.executor === undefined,
        convergence: { open: false, reported: 0, known: 0 },
        groupsEvaluated: 0,
        actions: [],
        actionCount: 0,
        waits: [],
        groups: [],
        nodes: [],
        drains: [],
      };
      this.last = report;
      return report;
    }
  }

  private async evaluate(at: number, started: number): Promise<TickReport> {
    const world = await this.reader.read(at);
    const drains = await this.drains.sync(at, world.nodeDocs, world.instances);
    await this.options.shutdowns?.deliverPending(world.nodeDocs);
    const result = scheduleTick(this.inputOf(world, await this.cooldowns.load()));

    const convergence = this.gate.check(at, world.nodeDocs);
    const waits: GroupWait[] = [];
    let actions = result.actions;
    if (!convergence.open) {
      const gated = this.gate.filter(actions, world.groups, world.instances, convergence);
      actions = gated.actions;
      for (const [group, reason] of gated.held) waits.push({ group, reason });
    }

    const work = new Map<string, SideEffect[]>();
    for (const action of actions) {
      if (!isSideEffect(action)) {
        waits.push({ group: action.group, reason: action.reason });
        continue;
      }
      const list = work.get(action.group);
      if (list === undefined) work.set(action.group, [action]);
      else list.push(action);
    }

    const runs = await this.execute(work, waits, revisionsOf(world, result.rollouts));
    await this.renewIdle(world, work);
    if (this.executor !== undefined && convergence.open)
      await this.progress.record(result.rollouts, world.deployments, runs, at);
    this.rolloutsActive = world.deployments.length > 0;
    this.rolloutGroups = new Set(world.deployments.map((d) => d.groupName));
    if (convergence.open) await this.stampCooldowns(world, result.cooldownStamps, runs, at);

    const outcomes: ActionOutcome[] = runs.flatMap((r) => r.outcomes);
    return {
      at,
      durationMs: performance.now() - started,
      ok: true,
      observeOnly: this.executor === undefined,
      convergence,
      groupsEvaluated: result.groups.length,
      actions: outcomes.slice(0, REPORTED_ACTIONS_MAX),
      actionCount: outcomes.length,
      waits,
      groups: result.groups,
      nodes: result.nodes,
      drains,
    };
  }

  private async execute(
    work: Map<string, SideEffect[]>,
    waits: GroupWait[],
    revisions: ReadonlyMap<string, number>,
  ): Promise<GroupExecution[]> {
    const executor = this.executor;
    if (executor === undefined) {
      for (const group of work.keys())
        waits.push({ group, reason: "observe-only: no instance lifecycle wired" });
      return [];
    }
    const queue = [...work.entries()];
    const runs: GroupExecution[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [group, actions] = next;
        try {
          const run = await executor.run(group, actions, revisions.get(group) ?? 0);
          runs.push(run);
          if (run.wait !== undefined) waits.push({ group, reason: run.wait });
        } catch (err) {
          // A coordination hiccup for one group must not cost the others their tick.
          const reason = `group not evaluated: ${(err as Error).message}`;
          this.options.log.warn({ group, err }, "scheduler group failed");
          waits.push({ group, reason });
        }
      }
    };
    const width = Math.max(1, Math.min(this.options.concurrency ?? 8, queue.length));
    await Promise.all(Array.from({ length: width }, worker));
    return runs;
  }

  /**
   * Group leases are renewed every tick whether or not the group has work, so ownership does not flap
   * between controllers; leases of groups that no longer exist are handed back.
   */
  private async renewIdle(world: World, work: Map<string, SideEffect[]>): Promise<void> {
    if (this.executor === undefined) return;
    const existing = new Set(world.groups.map((g) => g.name));
    for (const scope of this.leases.scopes()) {
      if (!scope.startsWith("group:")) continue;
      const group = scope.slice("group:".length);
      if (work.has(group)) continue;
      if (existing.has(group)) await this.leases.hold(scope);
      else await this.leases.release(scope);
    }
  }

  private async stampCooldowns(
    world: World,
    stamps: readonly string[],
    runs: readonly GroupExecution[],
    at: number,
  ): Promise<void> {
    const byGroup = new Map(runs.map((r) => [r.group, r]));
    for (const group of stamps) {
      const run = byGroup.get(group);
      // Only a scaling step that actually happened, under a lease still held, starts the window.
      if (run?.lease === undefined || !run.outcomes.some((o) => o.outcome === "applied")) continue;
      const g = world.groups.find((x) => x.name === group);
      const seconds =
        g !== undefined && g.scaleCooldownSeconds > 0
          ? g.scaleCooldownSeconds
          : this.options.scalingCooldownSeconds;
      try {
        if (!(await this.leases.isCurrent(run.lease))) continue;
        await this.cooldowns.stamp(group, at, seconds * 1000, {
          scope: run.lease.scope,
          token: run.lease.token,
        });
      } catch (err) {
        this.options.log.warn({ group, err }, "could not persist the scaling cooldown");
      }
    }
  }
}

/**
 * The revision each group's placements are stamped with: its head (the active deployment's target, or
 * the last completed one); a deployment failing in this very tick already hands back the previous one.
 */
function revisionsOf(world: World, outcomes: readonly RolloutOutcome[]): Map<string, number> {
  const revisions = new Map(world.heads);
  for (const o of outcomes) {
    if (o.decision.verdict !== "failed") continue;
    const doc = world.deployments.find((d) => d.groupName === o.group);
    if (doc !== undefined) revisions.set(o.group, doc.previousHead);
  }
  return revisions;
}

export type { GateVerdict };
