import { AppError } from "../core/errors.ts";
import type { Filter } from "./port.ts";

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const OPERATORS = new Set(["$in", "$nin", "$ne", "$gt", "$gte", "$lt", "$lte", "$exists"]);

/**
 * Field paths end up inside SQL text (as JSON paths that indexes can match) and operator names
 * must mean the same on both adapters, so both are checked against a closed alphabet first.
 */
export function checkFieldPath(path: string): string {
  if (!FIELD_PATH.test(path)) throw new AppError("INVALID_ARGUMENT", `invalid field path "${path}"`);
  return path;
}

export function checkFilter(filter: Filter, depth = 0): void {
  if (depth > 4) throw new AppError("INVALID_ARGUMENT", "filter nested too deeply");
  for (const [field, condition] of Object.entries(filter)) {
    if (condition === undefined) continue;
    if (field === "$or") {
      if (!Array.isArray(condition)) throw new AppError("INVALID_ARGUMENT", "$or takes a list of filters");
      for (const sub of condition) checkFilter(sub, depth + 1);
      continue;
    }
    checkFieldPath(field);
    if (condition !== null && typeof condition === "object" && !Array.isArray(condition)) {
      for (const op of Object.keys(condition)) {
        if (!OPERATORS.has(op)) throw new AppError("INVALID_ARGUMENT", `unsupported filter operator "${op}"`);
      }
    } else if (Array.isArray(condition)) {
      throw new AppError("INVALID_ARGUMENT", `equality against a list is not portable (field "${field}")`);
    }
  }
}

export function staleFence(scope: string, token: number, highest: number): AppError {
  return new AppError(
    "STALE_FENCING_TOKEN",
    `write under lease "${scope}" with fencing token ${token} rejected: token ${highest} was already accepted`,
    { scope, token, highest },
  );
}
