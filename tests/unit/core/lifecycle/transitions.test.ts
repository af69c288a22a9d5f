import { describe, expect, test } from "bun:test";
import { isAppError } from "../../../../src/core/errors.ts";
import {
  INSTANCE_STATE_NUMBERS,
  INSTANCE_STATES,
  type InstanceState,
  instanceStateFromNumber,
  isInstanceState,
  isServingState,
  isTerminalState,
  isTransitionalState,
  type LifecycleActor,
} from "../../../../src/core/lifecycle/instance-state.ts";
import {
  canTransition,
  INSTANCE_EVENTS,
  stateOnReadopt,
  transition,
  transitionOrThrow,
  transitionOwner,
} from "../../../../src/core/lifecycle/transitions.ts";

// Written out independently of the implementation: the spec's transition table and state owners.
const LEGAL: Record<InstanceState, InstanceState[]> = {
  SCHEDULED: ["PREPARING", "STARTING", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  PREPARING: ["SCHEDULED", "STARTING", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  STARTING: ["SCHEDULED", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  RUNNING: ["DRAINING", "STOPPING", "STOPPED", "CRASHED"],
  DRAINING: ["RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  STOPPING: ["STOPPED", "CRASHED"],
  STOPPED: [],
  CRASHED: [],
};
const OWNER: Record<InstanceState, LifecycleActor> = {
  SCHEDULED: "controller",
  PREPARING: "daemon",
  STARTING: "daemon",
  RUNNING: "controller",
  DRAINING: "controller",
  STOPPING: "daemon",
  STOPPED: "controller",
  CRASHED: "controller",
};
const other = (actor: LifecycleActor): LifecycleActor => (actor === "controller" ? "daemon" : "controller");

const legalMoves = INSTANCE_STATES.flatMap((from) => LEGAL[from].map((to) => [from, to] as const));
const illegalMoves = INSTANCE_STATES.flatMap((from) =>
  INSTANCE_STATES.filter((to) => to !== from && !LEGAL[from].includes(to)).map((to) => [from, to] as const),
);

describe("state helpers", () => {
  test("wire numbers match the proto enum", () => {
    expect(INSTANCE_STATE_NUMBERS).toEqual({
      SCHEDULED: 1,
      PREPARING: 2,
      STARTING: 3,
      RUNNING: 4,
      STOPPING: 5,
      STOPPED: 6,
      CRASHED: 7,
      DRAINING: 8,
    });
    expect(instanceStateFromNumber(8)).toBe("DRAINING");
    expect(instanceStateFromNumber(0)).toBeUndefined();
    expect(isInstanceState("RUNNING")).toBe(true);
    expect(isInstanceState("toString")).toBe(false);
  });

  test("active, terminal and transitional partition the states", () => {
    expect(INSTANCE_STATES.filter(isServingState)).toEqual(["RUNNING", "DRAINING"]);
    expect(INSTANCE_STATES.filter(isTerminalState)).toEqual(["STOPPED", "CRASHED"]);
    expect(INSTANCE_STATES.filter(isTransitionalState)).toEqual([
      "SCHEDULED",
      "PREPARING",
      "STARTING",
      "STOPPING",
    ]);
  });
});

describe("transition: every legal move", () => {
  test("the table has the expected number of legal moves", () => {
    expect(legalMoves.length).toBe(27);
    expect(illegalMoves.length).toBe(8 * 7 - 27);
  });

  test.each(legalMoves)("%s -> %s succeeds for its owner", (from, to) => {
    const result = transition({ id: "lobby-1", state: from }, to, OWNER[to]);
    expect(result).toEqual({ ok: true, from, to, changed: true });
    expect(canTransition(from, to)).toBe(true);
    expect(transitionOwner(to)).toBe(OWNER[to]);
  });

  test.each(legalMoves)("%s -> %s is refused for the other actor", (from, to) => {
    const result = transition({ id: "lobby-1", state: from }, to, other(OWNER[to]));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(isAppError(result.error, "ILLEGAL_STATE")).toBe(true);
    expect(result.error.details).toMatchObject({ from, to, owner: OWNER[to], actor: other(OWNER[to]) });
  });
});

describe("transition: illegal moves", () => {
  test.each(illegalMoves)("%s -> %s is rejected for both actors, naming from and to", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    for (const actor of ["controller", "daemon"] as const) {
      const result = transition({ id: "bedwars-7", state: from }, to, actor);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error.code).toBe("ILLEGAL_STATE");
      expect(result.error.status).toBe(409);
      expect(result.error.message).toContain(`${from} -> ${to}`);
      expect(result.error.message).toContain("bedwars-7");
      expect(result.error.details).toMatchObject({ instanceId: "bedwars-7", from, to });
    }
  });

  // A hand-picked set that must stay illegal whatever the table says.
  test.each([
    ["RUNNING", "SCHEDULED"],
    ["RUNNING", "STARTING"],
    ["RUNNING", "PREPARING"],
    ["DRAINING", "STARTING"],
    ["STARTING", "PREPARING"],
    ["STOPPING", "RUNNING"],
    ["STOPPING", "DRAINING"],
    ["STOPPED", "RUNNING"],
    ["STOPPED", "SCHEDULED"],
    ["CRASHED", "SCHEDULED"],
    ["CRASHED", "STOPPED"],
    ["SCHEDULED", "DRAINING"],
  ] as const)("%s -> %s is rejected", (from, to) => {
    expect(transition({ id: "x", state: from }, to, "controller").ok).toBe(false);
    expect(transition({ id: "x", state: from }, to, "daemon").ok).toBe(false);
  });
});

describe("transition: same state and events", () => {
  test.each(INSTANCE_STATES)("%s -> %s is a no-op for either actor, terminal states included", (state) => {
    for (const actor of ["controller", "daemon"] as const) {
      expect(transition({ id: "x", state }, state, actor)).toEqual({
        ok: true,
        from: state,
        to: state,
        changed: false,
      });
    }
  });

  test("events name their target state", () => {
    expect(INSTANCE_EVENTS).toEqual({
      RESCHEDULE: "SCHEDULED",
      PREPARE: "PREPARING",
      SPAWN: "STARTING",
      READY: "RUNNING",
      DRAIN: "DRAINING",
      STOP: "STOPPING",
      EXIT_CLEAN: "STOPPED",
      CRASH: "CRASHED",
    });
  });

  test("the happy path walks by events with the right actors", () => {
    let state: InstanceState = "SCHEDULED";
    const steps = [
      ["PREPARE", "daemon"],
      ["SPAWN", "daemon"],
      ["READY", "controller"],
      ["DRAIN", "controller"],
      ["STOP", "daemon"],
      ["EXIT_CLEAN", "controller"],
    ] as const;
    for (const [event, actor] of steps) state = transitionOrThrow({ id: "lobby-1", state }, event, actor);
    expect(state).toBe("STOPPED");
  });

  test("transitionOrThrow throws the ILLEGAL_STATE error", () => {
    expect(() => transitionOrThrow({ id: "lobby-1", state: "CRASHED" }, "READY", "controller")).toThrow(
      "CRASHED -> RUNNING",
    );
  });

  test("an event from the wrong side is refused even when the move is legal", () => {
    const result = transition({ id: "lobby-1", state: "STARTING" }, "READY", "daemon");
    expect(result.ok).toBe(false);
  });
});

describe("stateOnReadopt", () => {
  test("a live process reported as STARTING is re-derived to RUNNING", () => {
    expect(stateOnReadopt("STARTING", true)).toBe("RUNNING");
  });
  test("anything else is taken as reported", () => {
    expect(stateOnReadopt("STARTING", false)).toBe("STARTING");
    expect(stateOnReadopt("PREPARING", true)).toBe("PREPARING");
    expect(stateOnReadopt("STOPPING", true)).toBe("STOPPING");
  });
});
