/**
 * A simulated group for the rollout planner: instances boot and stop on a seeded schedule, and time
 * moves only through `advance`. Every decision is applied the way the controller would (a replace
 * places a new instance at the target revision, a stop moves an instance to STOPPING), and the
 * harness records each invariant breach it sees instead of throwing, so a test can print them all.
 */
import { planRollout } from "../../../src/controller/deployments/rollout-planner.ts";
import type {
  DeploymentState,
  RolloutDecision,
  RolloutInstance,
  RolloutKnobs,
  Strategy,
} from "../../../src/controller/deployments/rollout-types.ts";
import { seededRandom } from "../scheduler/fleet.ts";

export const T0 = Date.UTC(2026, 0, 1);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface SimInstance extends Mutable<RolloutInstance> {
  bootAt?: number;
  stopAt?: number;
  crashOnBoot?: boolean;
  /** when a DRAINING instance's players are gone (transferred) */
  emptyAt?: number;
}

export interface SimOptions {
  seed: number;
  total: number;
  knobs: RolloutKnobs;
  strategy?: Strategy;
  revision?: number;
  /** boot time range of a new instance, ms */
  bootMs?: readonly [number, number];
  stopMs?: number;
  /** instances of the new revision crash when they would become RUNNING */
  crashNew?: boolean;
  /** TPS every new instance reports once RUNNING */
  newTps?: number;
  /** players on each old instance at start */
  players?: number;
  /** ms after an instance goes DRAINING until its players have moved (absent: they never do) */
  leaveMs?: number;
}

const DEFAULT_KNOBS: RolloutKnobs = {
  batchSize: 1,
  maxUnavailable: 0,
  maxSurge: 1,
  canaryInstances: 0,
  healthGateEnabled: false,
  minHealthySeconds: 0,
  promotionTimeoutSeconds: 30,
  replacementTimeoutSeconds: 120,
  autoRollbackOnFailure: false,
  minHealthyTps: 0,
  drainTimeoutSeconds: 60,
};

export function knobs(fields: Partial<RolloutKnobs> = {}): RolloutKnobs {
  return { ...DEFAULT_KNOBS, ...fields };
}

export class RolloutSim {
  now = T0;
  state: DeploymentState = "IN_PROGRESS";
  readonly instances: SimInstance[] = [];
  readonly violations: string[] = [];
  readonly decisions: RolloutDecision[] = [];
  /** every stop step, in order */
  readonly stops: string[] = [];
  /** every drain step, in order */
  readonly drains: string[] = [];
  minRunning = Number.POSITIVE_INFINITY;
  maxExtra = 0;
  private readonly random: () => number;
  private next: number;
  readonly revision: number;

  constructor(readonly options: SimOptions) {
    this.random = seededRandom(options.seed);
    this.revision = options.revision ?? 2;
    for (let k = 1; k <= options.total; k++) {
      this.instances.push({
        id: `g-${k}`,
        state: "RUNNING",
        revision: this.revision - 1,
        createdAt: T0 - 600_000,
        runningSince: T0 - 500_000,
        ...(options.players !== undefined ? { players: options.players } : {}),
      });
    }
    this.next = options.total + 1;
  }

  get knobs(): RolloutKnobs {
    return this.options.knobs;
  }

  running(): number {
    return this.instances.filter((i) => i.state === "RUNNING").length;
  }

  present(): number {
    return this.instances.filter(
      (i) => i.state !== "STOPPING" && i.state !== "STOPPED" && i.state !== "CRASHED",
    ).length;
  }

  private sample(when: string): void {
    const running = this.running();
    this.minRunning = Math.min(this.minRunning, running);
    const floor = this.options.total - this.knobs.maxUnavailable;
    if (running < floor) this.violations.push(`${when}: ${running} RUNNING < ${floor}`);
  }

  tick(canPlace = true): RolloutDecision {
    const decision = planRollout({
      now: this.now,
      deployment: {
        revision: this.revision,
        strategy: this.options.strategy ?? "ROLLING",
        state: this.state,
        knobs: this.knobs,
        totalInstances: this.options.total,
        sameAs: [],
      },
      instances: this.instances.map((i) => ({ ...i })),
      canPlace,
    });
    this.decisions.push(decision);
    const seen = new Set<string>();
    for (const step of decision.steps) {
      const target = this.instances.find((i) => i.id === step.instance);
      if (target === undefined) {
        this.violations.push(`${step.kind} of unknown ${step.instance}`);
        continue;
      }
      if (step.kind === "stop") {
        if (seen.has(step.instance) || target.state === "STOPPING" || target.state === "STOPPED")
          this.violations.push(`${step.instance} stopped twice`);
        seen.add(step.instance);
        this.stops.push(step.instance);
        const held = target.players ?? 0;
        const deadline = (target.drainingSince ?? 0) + this.knobs.drainTimeoutSeconds * 1000;
        if (held > 0 && target.state !== "CRASHED" && (target.state !== "DRAINING" || this.now < deadline))
          this.violations.push(`${step.instance} stopped holding ${held} player(s) (${target.state})`);
        if (target.state !== "CRASHED") {
          target.state = "STOPPING";
          target.stopAt = this.now + (this.options.stopMs ?? 500);
        }
      } else if (step.kind === "drain") {
        if (target.state !== "RUNNING")
          this.violations.push(`${step.instance} drained while ${target.state}`);
        target.state = "DRAINING";
        target.drainingSince = this.now;
        if (this.options.leaveMs !== undefined) target.emptyAt = this.now + this.options.leaveMs;
        this.drains.push(step.instance);
      } else if (step.kind === "undrain") {
        target.state = "RUNNING";
        delete target.drainingSince;
        delete target.emptyAt;
      } else {
        const [lo, hi] = this.options.bootMs ?? [1000, 5000];
        this.instances.push({
          id: `g-${this.next++}`,
          state: "SCHEDULED",
          revision: this.revision,
          replaces: step.instance,
          createdAt: this.now,
          bootAt: this.now + lo + Math.floor(this.random() * (hi - lo)),
          crashOnBoot: this.options.crashNew === true,
        });
      }
    }
    const extra = this.present() - this.options.total;
    this.maxExtra = Math.max(this.maxExtra, extra);
    if (extra > this.knobs.maxSurge) this.violations.push(`${extra} extra > maxSurge ${this.knobs.maxSurge}`);
    this.sample("after tick");
    return decision;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    // Events in time order, so availability is sampled between each of them.
    for (;;) {
      let first: SimInstance | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const i of this.instances) {
        const t =
          i.state === "SCHEDULED"
            ? i.bootAt
            : i.state === "STOPPING"
              ? i.stopAt
              : i.state === "DRAINING" && (i.players ?? 0) > 0
                ? i.emptyAt
                : undefined;
        if (t !== undefined && t <= until && t < at) {
          at = t;
          first = i;
        }
      }
      if (first === undefined) break;
      this.now = at;
      if (first.state === "SCHEDULED") {
        if (first.crashOnBoot) first.state = "CRASHED";
        else {
          first.state = "RUNNING";
          first.runningSince = at;
          if (this.options.newTps !== undefined) first.tps1m = this.options.newTps;
        }
      } else if (first.state === "DRAINING") first.players = 0;
      else first.state = "STOPPED";
      this.sample(`at +${at - T0}ms`);
    }
    this.now = until;
  }

  /** Ticks every `stepMs` (seeded jitter) until the planner says completed or failed. */
  runToEnd(stepMs = 1000, maxTicks = 5000): RolloutDecision {
    for (let k = 0; k < maxTicks; k++) {
      const d = this.tick();
      if (d.verdict === "completed" || d.verdict === "failed") return d;
      this.advance(Math.max(1, Math.floor(stepMs * (0.5 + this.random()))));
    }
    throw new Error(`rollout did not end within ${maxTicks} ticks`);
  }

  liveAt(revision: number): SimInstance[] {
    return this.instances.filter(
      (i) =>
        i.revision === revision && i.state !== "STOPPED" && i.state !== "CRASHED" && i.state !== "STOPPING",
    );
  }
}
