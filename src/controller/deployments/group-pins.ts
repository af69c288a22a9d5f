import type { GroupSpec } from "../../core/groups/group-schema.ts";

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The group's own settings an instance of one revision is placed with. A deployment's group patch is
 * applied to the group at trigger and recorded as the revision's snapshot; a revision's instances get
 * that revision's snapshot, so an instance stamped with an older revision (head restored after a failed
 * rollout, a rollback, a re-placement of an old instance mid-rollout) does not pick up a newer
 * revision's settings. A field changed since the latest revision was recorded (a plain group PATCH,
 * not a deployment) applies to every revision, as it always did.
 */
export function pinnedSpec(current: GroupSpec, atRevision: GroupSpec, latest: GroupSpec): GroupSpec {
  const out: Record<string, unknown> = { ...atRevision };
  const now = current as unknown as Record<string, unknown>;
  const recorded = latest as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(now), ...Object.keys(recorded)])) {
    if (same(now[key], recorded[key])) continue;
    if (key in now) out[key] = now[key];
    else delete out[key];
  }
  out.name = current.name;
  return out as unknown as GroupSpec;
}
