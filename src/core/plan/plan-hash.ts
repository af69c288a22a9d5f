import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import type { CompositionPlanContent } from "./plan-types.ts";

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * planHash: SHA-256 over the content fields in a fixed order, then chained once per config patch in
 * resolved order (`h = SHA-256(h, op, file, path, value)`), so reordering patches changes the hash.
 *
 * The fields are hashed as one canonical JSON array rather than back-to-back JSON values: adjacent
 * numbers would run together (`port 2556, memory 51024` and `port 25565, memory 1024` both give
 * `255651024`), an array cannot. `variableOverrides` is hashed too (after the fields the reference
 * design lists) because it changes the materialized files.
 */
export function computePlanHash(plan: CompositionPlanContent): string {
  let hash = sha256Hex(
    canonicalJson([
      plan.instanceId,
      plan.groupName,
      plan.nodeId,
      plan.port,
      plan.memoryMb,
      plan.isolation,
      plan.jvmArgs,
      plan.env,
      plan.staticInstance,
      plan.protectedPaths,
      plan.templates,
      plan.runtime,
      plan.extensions,
      plan.variableOverrides,
    ]),
  );
  for (const patch of plan.configPatches) {
    hash = sha256Hex(canonicalJson([hash, patch.op, patch.file, patch.path, patch.value]));
  }
  return hash;
}
