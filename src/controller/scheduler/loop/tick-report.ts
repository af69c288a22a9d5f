import type { GroupDiagnostic, NodeDiagnostic } from "../types.ts";
import type { GateVerdict } from "./convergence-gate.ts";
import type { DrainProgress } from "./drain-workflow.ts";
import type { ActionOutcome } from "./group-executor.ts";

export interface GroupWait {
  readonly group: string;
  readonly reason: string;
}

/** What one tick did, kept for `GET /api/v1/scheduler`. */
export interface TickReport {
  /** epoch ms the tick started */
  readonly at: number;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly error?: string;
  /** true when no instance lifecycle is wired: decisions are computed and shown, never carried out */
  readonly observeOnly: boolean;
  readonly convergence: GateVerdict;
  readonly groupsEvaluated: number;
  /** every side effect attempted, with its outcome (capped: see `actionCount`) */
  readonly actions: readonly ActionOutcome[];
  readonly actionCount: number;
  readonly waits: readonly GroupWait[];
  readonly groups: readonly GroupDiagnostic[];
  readonly nodes: readonly NodeDiagnostic[];
  readonly drains: readonly DrainProgress[];
}

/** Enough to read what happened without shipping thousands of placements on a cold start. */
export const REPORTED_ACTIONS_MAX = 500;

/** The REST shape: times as ISO strings, actions flattened. */
export function toTickView(report: TickReport | undefined, intervalSeconds: number) {
  if (report === undefined) return { intervalSeconds, lastTick: null };
  return {
    intervalSeconds,
    lastTick: {
      at: new Date(report.at).toISOString(),
      durationMs: Math.round(report.durationMs * 1000) / 1000,
      ok: report.ok,
      ...(report.error !== undefined ? { error: report.error } : {}),
      observeOnly: report.observeOnly,
      convergence: report.convergence,
      groupsEvaluated: report.groupsEvaluated,
      actionCount: report.actionCount,
      actions: report.actions.map(({ action, outcome, detail }) => ({
        ...action,
        outcome,
        ...(detail !== undefined ? { detail } : {}),
      })),
      waits: report.waits,
      groups: report.groups,
      nodes: report.nodes,
      drains: report.drains,
    },
  };
}
