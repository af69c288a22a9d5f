/**
 * A simulated BLUE_GREEN rollout: instances boot, drain and stop on a seeded schedule, players leave a
 * drained instance over time, the routing side is a record the planner's `switchTo` writes (a write
 * may be lost, as when the controller dies mid-switch), and time moves only through `advance`.
 * Invariant breaches are collected, not thrown.
 */
import { planBlueGreen } from "../../../src/controller/deployments/blue-green-planner.ts";
import { routableFilter } from "../../../src/controller/deployments/blue-green-routing.ts";
import type {
  DeploymentState,
  RolloutDecision,
  RolloutInstance,
  RolloutKnobs,
  RoutingSide,
} from "../../../src/controller/deployments/rollout-types.ts";
import { seededRandom } from "../../support/seeded-random.ts";

export const T0 = Date.UTC(2026, 0, 1);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface SimInstance extends Mutable<RolloutInstance> {
  bootAt?: number;
  stopAt?: number;
  crashAt?: number;
}

export interface BlueGreenOptions {
  seed: number;
  total: number;
  knobs: RolloutKnobs;
  /** players on each blue instance at start */
  players?: number;
  /** crash this many ms after boot: the first green (index 0) */
  crashGreenAfterMs?: number;
  /** chance each switch write is lost (the controller died before recording it) */
  lostWrites?: number;
  drainSeconds?: number;
}

const REVISION = 2;

export class BlueGreenSim {
  now = T0;
  state: DeploymentState = "IN_PROGRESS";
  routing: RoutingSide = "blue";
  switchedAt: number | undefined;
  failing: string | undefined;
  readonly instances: SimInstance[] = [];
  readonly violations: string[] = [];
  readonly stops: string[] = [];
  readonly switches: RoutingSide[] = [];
  private hadRoutable = false;
  private readonly random: () => number;
  private next: number;
  private greens = 0;

  constructor(readonly options: BlueGreenOptions) {
    this.random = seededRandom(options.seed);
    for (let k = 1; k <= options.total; k++) {
      this.instances.push({
        id: `g-${k}`,
        state: "RUNNING",
        revision: REVISION - 1,
        createdAt: T0 - 600_000,
        runningSince: T0 - 500_000,
        players: options.players ?? 0,
      });
    }
    this.next = options.total + 1;
    this.sample("start");
  }

  routable(): SimInstance[] {
    const ok = routableFilter([
      {
        groupName: "g",
        revision: REVISION,
        sameAs: [],
        strategy: "BLUE_GREEN",
        state: this.state,
        routing: this.routing,
      },
    ]);
    return this.instances.filter(
      (i) => i.state === "RUNNING" && ok({ group: "g", deploymentRevision: i.revision }),
    );
  }

  private sample(when: string): void {
    const routable = this.routable().length;
    if (routable > 0) this.hadRoutable = true;
    else if (this.hadRoutable && !this.crashLeftNothing())
      this.violations.push(
        `${when}: no RUNNING routable instance (routing ${this.routing}) ${JSON.stringify(this.instances.map((i) => [i.id, i.state, i.revision]))}`,
      );
  }

  /**
   * Every green crashed while routing was on green: the workload emptied the routed side, and the
   * planner is unwinding (blue back to RUNNING, then routing back), which takes until the next tick.
   */
  private crashLeftNothing(): boolean {
    const crashed = this.instances.some((i) => i.state === "CRASHED");
    return (
      crashed &&
      this.routing === "green" &&
      !this.instances.some((i) => i.state === "RUNNING" && i.revision === REVISION)
    );
  }

  tick(): RolloutDecision {
    const decision = planBlueGreen({
      now: this.now,
      deployment: {
        revision: REVISION,
        strategy: "BLUE_GREEN",
        state: this.state,
        knobs:
          this.options.drainSeconds !== undefined
            ? { ...this.options.knobs, drainTimeoutSeconds: this.options.drainSeconds }
            : this.options.knobs,
        totalInstances: this.options.total,
        sameAs: [],
        routing: this.routing,
        ...(this.switchedAt !== undefined ? { switchedAt: this.switchedAt } : {}),
        ...(this.failing !== undefined ? { failing: this.failing } : {}),
      },
      instances: this.instances.map((i) => ({ ...i })),
      canPlace: true,
    });
    const lost = this.random() < (this.options.lostWrites ?? 0);
    if (!lost) {
      if (decision.failing !== undefined) this.failing = decision.failing;
      if (decision.switchTo !== undefined) {
        const side = decision.switchTo;
        const target = this.instances.filter(
          (i) => i.state === "RUNNING" && (side === "green" ? i.revision >= REVISION : i.revision < REVISION),
        );
        if (target.length === 0) this.violations.push(`switch to ${side} with no RUNNING instance there`);
        this.routing = side;
        this.switchedAt = this.now;
        this.switches.push(side);
      }
    }
    // A lost write loses the record only; the tick's steps still ran (they were planned from the old record).
    const seen = new Set<string>();
    for (const step of decision.steps) {
      const target = this.instances.find((i) => i.id === step.instance);
      if (target === undefined) {
        this.violations.push(`${step.kind} of unknown ${step.instance}`);
        continue;
      }
      if (step.kind === "stop") {
        if (seen.has(target.id) || target.state === "STOPPING" || target.state === "STOPPED")
          this.violations.push(`${target.id} stopped twice`);
        seen.add(target.id);
        this.stops.push(target.id);
        if (target.state !== "CRASHED") {
          target.state = "STOPPING";
          target.stopAt = this.now + 300 + Math.floor(this.random() * 700);
        }
      } else if (step.kind === "drain") {
        if (target.state === "RUNNING") target.state = "DRAINING";
      } else if (step.kind === "undrain") {
        if (target.state === "DRAINING") target.state = "RUNNING";
      } else {
        const crash = this.greens++ === 0 ? this.options.crashGreenAfterMs : undefined;
        const bootAt = this.now + 1000 + Math.floor(this.random() * 4000);
        this.instances.push({
          id: `g-${this.next++}`,
          state: "SCHEDULED",
          revision: REVISION,
          replaces: step.instance,
          createdAt: this.now,
          bootAt,
          players: 0,
          ...(crash !== undefined ? { crashAt: bootAt + crash } : {}),
        });
      }
    }
    this.sample("after tick");
    return decision;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let first: SimInstance | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const i of this.instances) {
        const t =
          i.state === "SCHEDULED"
            ? i.bootAt
            : i.state === "STOPPING"
              ? i.stopAt
              : i.state === "RUNNING" || i.state === "DRAINING"
                ? i.crashAt
                : undefined;
        if (t !== undefined && t <= until && t < at) {
          at = t;
          first = i;
        }
      }
      if (first === undefined) break;
      this.now = at;
      if (first.state === "SCHEDULED") {
        first.state = "RUNNING";
        first.runningSince = at;
      } else if (first.state === "STOPPING") first.state = "STOPPED";
      else first.state = "CRASHED";
      this.sample(`at +${at - T0}ms`);
    }
    // Players leave a drained instance (they are transferred to green) at a seeded pace.
    for (const i of this.instances) {
      if (i.state === "DRAINING" && (i.players ?? 0) > 0 && this.random() < 0.5)
        i.players = (i.players ?? 0) - 1;
    }
    this.now = until;
  }

  runToEnd(stepMs = 1000, maxTicks = 5000): RolloutDecision {
    for (let k = 0; k < maxTicks; k++) {
      const d = this.tick();
      if (d.verdict === "completed" || d.verdict === "failed") return d;
      this.advance(Math.max(1, Math.floor(stepMs * (0.5 + this.random()))));
    }
    throw new Error(`blue-green rollout did not end within ${maxTicks} ticks`);
  }

  live(revision: number): SimInstance[] {
    return this.instances.filter(
      (i) =>
        i.revision === revision && i.state !== "STOPPED" && i.state !== "CRASHED" && i.state !== "STOPPING",
    );
  }
}
