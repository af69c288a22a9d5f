import { describe, expect, test } from "bun:test";
import {
  DEFAULT_REPAIR_LIMITS,
  type RepairView,
  repairFor,
  repairLimitsFor,
} from "../../../src/controller/instances/convergence-repairs.ts";

const limits = { resendAfterMs: 1000, maxSends: 3, prepareTimeoutMs: 60_000 };
const T0 = 1_000_000;

function doc(fields: Partial<RepairView>): RepairView {
  return { state: "SCHEDULED", stateChangedAt: T0, ...fields };
}

describe("repairFor: a start the node does not list", () => {
  test("is left alone until the resend wait has passed since the last delivery", () => {
    expect(repairFor(doc({ dispatchedAt: T0, dispatchCount: 1 }), undefined, T0 + 999, limits)).toEqual({
      kind: "none",
    });
    expect(repairFor(doc({ dispatchedAt: T0, dispatchCount: 1 }), undefined, T0 + 1000, limits).kind).toBe(
      "redispatch",
    );
  });

  test("a start never delivered (no dispatchedAt) is sent at once", () => {
    expect(repairFor(doc({}), undefined, T0, limits).kind).toBe("redispatch");
  });

  test("after maxSends deliveries the record ends CRASHED, so the scheduler places it again", () => {
    const repair = repairFor(doc({ dispatchedAt: T0, dispatchCount: 3 }), undefined, T0 + 5000, limits);
    expect(repair).toMatchObject({ kind: "verdict", state: "CRASHED" });
    if (repair.kind === "verdict") expect(repair.reason).toContain("3 deliveries");
  });

  test("records in other states the node does not list are not this planner's business", () => {
    for (const state of ["STARTING", "RUNNING", "STOPPING", "STOPPED", "CRASHED"] as const) {
      expect(repairFor(doc({ state, dispatchedAt: 0 }), undefined, T0 + 60_000, limits).kind).toBe("none");
    }
  });
});

describe("repairFor: a stop the node has not carried out", () => {
  const stopping = (fields: Partial<RepairView>) => doc({ state: "STOPPING", stopSentAt: T0, ...fields });

  test("is sent again once the wait has passed, while the node reports the process up", () => {
    for (const reported of ["PREPARING", "STARTING", "RUNNING", "DRAINING"] as const) {
      expect(repairFor(stopping({ stopCount: 1 }), reported, T0 + 999, limits).kind).toBe("none");
      expect(repairFor(stopping({ stopCount: 1 }), reported, T0 + 1000, limits)).toEqual({
        kind: "resend-stop",
        force: false,
      });
    }
  });

  test("the last send of a series is forced", () => {
    expect(repairFor(stopping({ stopCount: 2 }), "RUNNING", T0 + 1000, limits)).toEqual({
      kind: "resend-stop",
      force: true,
    });
    expect(repairFor(stopping({ stopCount: 7 }), "RUNNING", T0 + 1000, limits)).toEqual({
      kind: "resend-stop",
      force: true,
    });
  });

  test("a node already stopping it needs nothing", () => {
    expect(repairFor(stopping({ stopCount: 1 }), "STOPPING", T0 + 60_000, limits).kind).toBe("none");
  });

  test("a record without stopSentAt waits from its state change", () => {
    const view = doc({ state: "STOPPING", stateChangedAt: T0 });
    expect(repairFor(view, "RUNNING", T0 + 500, limits).kind).toBe("none");
    expect(repairFor(view, "RUNNING", T0 + 1000, limits).kind).toBe("resend-stop");
  });
});

describe("repairFor: preparation that does not end", () => {
  test("is stopped after the prepare timeout, not before", () => {
    const view = doc({ state: "PREPARING", stateChangedAt: T0 });
    expect(repairFor(view, "PREPARING", T0 + 59_999, limits).kind).toBe("none");
    expect(repairFor(view, "PREPARING", T0 + 60_000, limits).kind).toBe("stop-stuck-prepare");
  });

  test("a node that moved on (STARTING) is not stuck", () => {
    const view = doc({ state: "PREPARING", stateChangedAt: T0 });
    expect(repairFor(view, "STARTING", T0 + 600_000, limits).kind).toBe("none");
  });
});

describe("repairLimitsFor", () => {
  test("resends follow two heartbeats, clamped to 1–10 s", () => {
    expect(repairLimitsFor(100).resendAfterMs).toBe(1000);
    expect(repairLimitsFor(2000).resendAfterMs).toBe(4000);
    expect(repairLimitsFor(30_000).resendAfterMs).toBe(10_000);
    expect(repairLimitsFor(30_000).maxSends).toBe(DEFAULT_REPAIR_LIMITS.maxSends);
  });
});
