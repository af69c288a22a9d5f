import { computePlanHash } from "./plan-hash.ts";
import type { CompositionPlan, CompositionPlanContent, PlanFencing } from "./plan-types.ts";

/** Stands in for the plugin token in a stored plan; the token is a secret and is never persisted. */
export const PLUGIN_TOKEN_PLACEHOLDER = "<plugin-token>";

export interface PlanBookkeeping {
  readonly now: Date;
  readonly fencing: PlanFencing;
  readonly controllerSeeds?: readonly string[];
}

/** Seals plan content into a persistable plan: hash, creation time, fencing, token placeholder. */
export function createCompositionPlan(
  content: CompositionPlanContent,
  meta: PlanBookkeeping,
): CompositionPlan {
  return {
    ...content,
    planHash: computePlanHash(content),
    createdAt: meta.now.toISOString(),
    pluginToken: PLUGIN_TOKEN_PLACEHOLDER,
    fencing: meta.fencing,
    ...(meta.controllerSeeds === undefined ? {} : { controllerSeeds: meta.controllerSeeds }),
  };
}

/** True when the stored hash still matches the content (a daemon checks this before launching). */
export function verifyPlanHash(plan: CompositionPlan): boolean {
  return computePlanHash(plan) === plan.planHash;
}

/** The process env a plan carries: the group's env plus where the plugin finds the controller. */
export function planEnvironment(
  groupEnv: Readonly<Record<string, string>>,
  controllerUrl: string,
): Record<string, string> {
  return { ...groupEnv, CLOUD_CONTROLLER_URL: controllerUrl };
}

/** Where a daemon downloads a module's extension artifact from. */
export function extensionDownloadUrl(controllerUrl: string, moduleId: string, artifactPath: string): string {
  const base = controllerUrl.replace(/\/+$/, "");
  const artifact = artifactPath.split("/").filter(Boolean).map(encodeURIComponent).join("/");
  return `${base}/api/v1/modules/platform/${encodeURIComponent(moduleId)}/artifacts/${artifact}`;
}
