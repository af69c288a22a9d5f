import { AppError } from "../../core/errors.ts";
import { DEFAULT_DRAIN_TIMEOUT_SECONDS, type RolloutKnobs, type Strategy } from "./rollout-types.ts";

/** A drain deadline past a day is a typo, not a plan: players would pin blue up indefinitely. */
const MAX_DRAIN_TIMEOUT_SECONDS = 86_400;

/** Knobs as a request names them: every field optional. */
export interface KnobRequest {
  batchSize?: number;
  maxUnavailable?: number;
  maxSurge?: number;
  canaryInstances?: number;
  canaryPercent?: number;
  healthGateEnabled?: boolean;
  minHealthySeconds?: number;
  promotionTimeoutSeconds?: number;
  replacementTimeoutSeconds?: number;
  autoRollbackOnFailure?: boolean;
  minHealthyTps?: number;
  drainTimeoutSeconds?: number;
}

export interface KnobContext {
  strategy: Strategy;
  /** RUNNING instances at trigger (canaryPercent is a share of these) */
  total: number;
  /** scheduler.evaluationIntervalSeconds: promotionTimeout defaults to twice this */
  evaluationIntervalSeconds: number;
  /** the group's startupTimeoutSeconds: replacementTimeout defaults to it */
  startupTimeoutSeconds: number;
}

/** CANARY's defaults (spec 10 §6): one canary, gate and auto-rollback on, 30 s stabilization, TPS 18. */
const CANARY_DEFAULTS = {
  canaryInstances: 1,
  healthGateEnabled: true,
  autoRollbackOnFailure: true,
  minHealthySeconds: 30,
  minHealthyTps: 18,
} as const;

function bad(message: string, field: string): AppError {
  return new AppError("BAD_REQUEST", message, { field });
}

/**
 * The spec's trigger-body checks (400 BAD_REQUEST): batchSize ≤ 0, canaryInstances < 0, canaryPercent
 * outside 0..100, both canary fields, promotionTimeout ≤ 0, minHealthy < 0; plus combinations that can
 * never make progress (422 VALIDATION_ERROR): no surge and no unavailability allowed.
 */
export function resolveKnobs(req: KnobRequest, ctx: KnobContext): RolloutKnobs {
  if (req.batchSize !== undefined && req.batchSize <= 0)
    throw bad("batchSize must be at least 1", "batchSize");
  if (req.canaryInstances !== undefined && req.canaryInstances < 0)
    throw bad("canaryInstances must not be negative", "canaryInstances");
  if (req.canaryPercent !== undefined && (req.canaryPercent < 0 || req.canaryPercent > 100))
    throw bad("canaryPercent must be within 0..100", "canaryPercent");
  if (req.canaryInstances !== undefined && req.canaryPercent !== undefined)
    throw bad("canaryInstances and canaryPercent are exclusive: name one", "canaryPercent");
  if (req.promotionTimeoutSeconds !== undefined && req.promotionTimeoutSeconds <= 0)
    throw bad("promotionTimeoutSeconds must be positive", "promotionTimeoutSeconds");
  if (req.minHealthySeconds !== undefined && req.minHealthySeconds < 0)
    throw bad("minHealthySeconds must not be negative", "minHealthySeconds");
  if (req.maxUnavailable !== undefined && req.maxUnavailable < 0)
    throw bad("maxUnavailable must not be negative", "maxUnavailable");
  if (req.maxSurge !== undefined && req.maxSurge < 0) throw bad("maxSurge must not be negative", "maxSurge");
  if (req.replacementTimeoutSeconds !== undefined && req.replacementTimeoutSeconds <= 0)
    throw bad("replacementTimeoutSeconds must be positive", "replacementTimeoutSeconds");
  if (req.minHealthyTps !== undefined && (req.minHealthyTps < 0 || req.minHealthyTps > 20))
    throw bad("minHealthyTps must be within 0..20", "minHealthyTps");

  if (
    req.drainTimeoutSeconds !== undefined &&
    (req.drainTimeoutSeconds <= 0 || req.drainTimeoutSeconds > MAX_DRAIN_TIMEOUT_SECONDS)
  )
    throw bad(`drainTimeoutSeconds must be within 1..${MAX_DRAIN_TIMEOUT_SECONDS}`, "drainTimeoutSeconds");

  const canaryDefaults = ctx.strategy === "CANARY" ? CANARY_DEFAULTS : undefined;
  const batchSize = Math.floor(req.batchSize ?? 1);
  const maxUnavailable = Math.floor(req.maxUnavailable ?? 0);
  // Surge by default: with nothing allowed down, a wave needs room for its replacements.
  const maxSurge = Math.floor(req.maxSurge ?? (maxUnavailable === 0 ? batchSize : 0));
  if (maxUnavailable === 0 && maxSurge === 0)
    throw new AppError(
      "VALIDATION_ERROR",
      "maxUnavailable 0 with maxSurge 0 can never replace an instance: allow one of them",
      { fields: ["maxUnavailable", "maxSurge"] },
    );
  const percent = req.canaryPercent ?? 0;
  let canaryInstances =
    req.canaryPercent !== undefined
      ? percent > 0
        ? Math.max(1, Math.ceil((ctx.total * percent) / 100))
        : 0
      : Math.floor(req.canaryInstances ?? canaryDefaults?.canaryInstances ?? 0);
  canaryInstances = Math.min(canaryInstances, Math.max(ctx.total, canaryInstances > 0 ? 1 : 0));
  if (ctx.strategy === "CANARY" && canaryInstances === 0)
    throw new AppError("VALIDATION_ERROR", "a CANARY deployment needs at least one canary", {
      fields: ["canaryInstances", "canaryPercent"],
    });
  return {
    batchSize,
    maxUnavailable,
    maxSurge,
    canaryInstances,
    healthGateEnabled: req.healthGateEnabled ?? canaryDefaults?.healthGateEnabled ?? false,
    minHealthySeconds: req.minHealthySeconds ?? canaryDefaults?.minHealthySeconds ?? 0,
    promotionTimeoutSeconds: req.promotionTimeoutSeconds ?? Math.max(1, ctx.evaluationIntervalSeconds * 2),
    replacementTimeoutSeconds: req.replacementTimeoutSeconds ?? Math.max(1, ctx.startupTimeoutSeconds),
    autoRollbackOnFailure: req.autoRollbackOnFailure ?? canaryDefaults?.autoRollbackOnFailure ?? false,
    minHealthyTps: req.minHealthyTps ?? canaryDefaults?.minHealthyTps ?? 0,
    drainTimeoutSeconds: Math.floor(req.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS),
  };
}
