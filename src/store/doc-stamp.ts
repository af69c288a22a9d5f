import { AppError } from "../core/errors.ts";
import type { Doc, Fence, NewDoc } from "./port.ts";

/** Store-managed fields (`_rev`, `_fence`) are set here and nowhere else, in every adapter. */
export function stripManaged(patch: Record<string, unknown>): Record<string, unknown> {
  const { _id: _ignoredId, _rev: _ignoredRev, _fence: _ignoredFence, ...rest } = patch;
  return rest;
}

export function stamp<T extends Doc>(doc: NewDoc<T>, rev: number, fence: Fence | undefined): T {
  const { _rev: _r, _fence: _f, ...rest } = doc as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest, _rev: rev };
  if (fence) out._fence = { scope: fence.scope, token: fence.token };
  return out as T;
}

export function checkRev(collection: string, id: string, current: Doc, ifRev: number | undefined): void {
  if (ifRev !== undefined && current._rev !== ifRev) {
    throw new AppError(
      "CONFLICT",
      `${collection}/${id} was changed concurrently (revision ${current._rev}, expected ${ifRev})`,
      {
        collection,
        id,
        rev: current._rev,
      },
    );
  }
}
