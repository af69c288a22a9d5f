import { describe, expect, test } from "bun:test";
import { planBlueGreen } from "../../../src/controller/deployments/blue-green-planner.ts";
import { routableFilter } from "../../../src/controller/deployments/blue-green-routing.ts";
import { seededRandom } from "../../support/seeded-random.ts";
import { BlueGreenSim, T0 } from "./blue-green-harness.ts";
import { knobs } from "./rollout-harness.ts";

const gate = knobs({ healthGateEnabled: true, minHealthySeconds: 5, promotionTimeoutSeconds: 30 });

describe("blue-green planner", () => {
  test("green starts in full beside blue, passes the gate, routing switches, blue drains and stops", () => {
    const sim = new BlueGreenSim({ seed: 1, total: 4, knobs: gate, players: 2 });
    const first = sim.tick();
    expect(first.steps.filter((s) => s.kind === "replace").map((s) => s.instance)).toEqual([
      "g-1",
      "g-2",
      "g-3",
      "g-4",
    ]);
    expect(first.switchTo).toBeUndefined();
    // Nothing about blue changes until every green passed and the switch is recorded.
    for (let k = 0; k < 20 && sim.routing === "blue"; k++) {
      sim.advance(1000);
      const d = sim.tick();
      if (sim.routing === "blue")
        expect(d.steps.every((s) => s.kind !== "stop" && s.kind !== "drain")).toBe(true);
    }
    expect(sim.routing).toBe("green");
    expect(sim.live(2).every((i) => i.state === "RUNNING")).toBe(true);
    const afterSwitch = sim.tick();
    expect(afterSwitch.steps.map((s) => s.kind)).toEqual(["drain", "drain", "drain", "drain"]);
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    expect(sim.live(1)).toHaveLength(0);
    expect(sim.live(2)).toHaveLength(4);
    expect(sim.switches).toEqual(["green"]);
    expect(sim.violations).toEqual([]);
  });

  test("a green that crashes before the switch: green stopped, blue untouched, routing never moved", () => {
    const sim = new BlueGreenSim({ seed: 2, total: 3, knobs: gate, crashGreenAfterMs: 1000 });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("failed");
    expect(end.rollbackNeeded).toBe(false);
    expect(sim.switches).toEqual([]);
    expect(sim.live(2)).toHaveLength(0);
    expect(sim.live(1).filter((i) => i.state === "RUNNING")).toHaveLength(3);
    expect(sim.violations).toEqual([]);
  });

  test("a green that crashes after the switch: blue undrained, routing switched back, then green stops", () => {
    const sim = new BlueGreenSim({
      seed: 3,
      total: 3,
      knobs: gate,
      crashGreenAfterMs: 20_000,
      players: 5,
      drainSeconds: 600,
    });
    const end = sim.runToEnd();
    expect(sim.switches).toEqual(["green", "blue"]);
    expect(end.verdict).toBe("failed");
    expect(sim.routing).toBe("blue");
    expect(sim.live(2)).toHaveLength(0);
    expect(sim.live(1).filter((i) => i.state === "RUNNING")).toHaveLength(3);
    expect(sim.violations).toEqual([]);
  });

  test("blue with players is stopped at the drain deadline", () => {
    const sim = new BlueGreenSim({ seed: 4, total: 1, knobs: knobs(), players: 1_000, drainSeconds: 10 });
    let switchedAt = 0;
    for (let k = 0; k < 100 && sim.routing === "blue"; k++) {
      sim.tick();
      sim.advance(1000);
    }
    switchedAt = sim.switchedAt ?? 0;
    const end = sim.runToEnd(1000);
    expect(end.verdict).toBe("completed");
    expect(sim.now - switchedAt).toBeGreaterThanOrEqual(10_000);
  });

  test("pause holds before placing green and before the switch", () => {
    const input = {
      now: T0,
      deployment: {
        revision: 2,
        strategy: "BLUE_GREEN" as const,
        state: "PAUSED" as const,
        knobs: knobs(),
        totalInstances: 1,
        sameAs: [],
      },
      instances: [
        {
          id: "g-1",
          state: "RUNNING" as const,
          revision: 1,
          createdAt: T0 - 10_000,
          runningSince: T0 - 9000,
        },
      ],
      canPlace: true,
    };
    expect(planBlueGreen(input).steps).toEqual([]);
    const withGreen = {
      ...input,
      instances: [
        ...input.instances,
        {
          id: "g-2",
          state: "RUNNING" as const,
          revision: 2,
          replaces: "g-1",
          createdAt: T0 - 5000,
          runningSince: T0 - 4000,
        },
      ],
    };
    const held = planBlueGreen(withGreen);
    expect(held.verdict).toBe("paused");
    expect(held.switchTo).toBeUndefined();
    const resumed = planBlueGreen({
      ...withGreen,
      deployment: { ...withGreen.deployment, state: "IN_PROGRESS" },
    });
    expect(resumed.switchTo).toBe("green");
  });

  test("routing filter: blue before the switch, green after, everything once the deployment ended", () => {
    const d = {
      groupName: "g",
      revision: 3,
      sameAs: [],
      strategy: "BLUE_GREEN" as const,
      state: "IN_PROGRESS" as const,
    };
    const blue = { group: "g", deploymentRevision: 2 };
    const green = { group: "g", deploymentRevision: 3 };
    const other = { group: "h", deploymentRevision: 0 };
    const before = routableFilter([d]);
    expect([before(blue), before(green), before(other)]).toEqual([true, false, true]);
    const after = routableFilter([{ ...d, routing: "green" }]);
    expect([after(blue), after(green), after(other)]).toEqual([false, true, true]);
    const ended = routableFilter([{ ...d, routing: "green", state: "COMPLETED" }]);
    expect([ended(blue), ended(green)]).toEqual([true, true]);
    expect(routableFilter([{ ...d, strategy: "ROLLING" }])(green)).toBe(true);
  });

  test("seeded property: a RUNNING routable instance always exists, switches only to a RUNNING side, no double stop", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seededRandom(seed * 7919);
      const total = 1 + Math.floor(r() * 6);
      const crash = r() < 0.3 ? Math.floor(r() * 20_000) : undefined;
      const sim = new BlueGreenSim({
        seed,
        total,
        knobs: knobs({ healthGateEnabled: r() < 0.5, minHealthySeconds: Math.floor(r() * 8) }),
        players: Math.floor(r() * 4),
        ...(crash !== undefined ? { crashGreenAfterMs: crash } : {}),
        lostWrites: r() < 0.5 ? 0.3 : 0,
        drainSeconds: 5 + Math.floor(r() * 30),
      });
      const end = sim.runToEnd(200 + Math.floor(r() * 1500));
      if (sim.violations.length > 0) throw new Error(`seed ${seed}: ${sim.violations.join("; ")}`);
      const stopped = new Set(sim.stops);
      expect(stopped.size).toBe(sim.stops.length);
      if (end.verdict === "completed") {
        expect(sim.live(1)).toHaveLength(0);
        expect(sim.live(2)).toHaveLength(total);
      } else {
        // A failure leaves exactly one side serving.
        if (sim.live(1).length > 0 && sim.live(2).length > 0)
          throw new Error(
            `seed ${seed}: ${end.reason} ${JSON.stringify(sim.instances.map((i) => [i.id, i.state, i.revision]))} ${sim.switches}`,
          );
      }
    }
  });
});
