import { checkFieldPath } from "../filter-check.ts";
import type { FieldCondition, Filter, Scalar, SortSpec } from "../port.ts";

/** SQL for one filter over a table of `(id, doc)` rows, plus its bound parameters. */
export interface SqlFragment {
  sql: string;
  params: Array<string | number | null>;
}

/** The expression an index is built on must be spelled exactly like the one queries use. */
export function fieldExpr(path: string): string {
  if (path === "_id") return "id";
  return `json_extract(doc, '$.${checkFieldPath(path)}')`;
}

function typeExpr(path: string): string {
  return path === "_id" ? "'text'" : `json_type(doc, '$.${checkFieldPath(path)}')`;
}

function bind(value: Scalar): string | number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** Orders compare within one type only, as MongoDB does, so a string never sorts "above" a number. */
function typeGuard(path: string, value: Scalar): string {
  if (typeof value === "number") return `${typeExpr(path)} IN ('integer','real')`;
  if (typeof value === "string") return `${typeExpr(path)} = 'text'`;
  return "1";
}

function conditionSql(path: string, condition: FieldCondition, params: SqlFragment["params"]): string {
  const expr = fieldExpr(path);
  if (condition === null) return `${expr} IS NULL`;
  if (typeof condition !== "object") {
    params.push(bind(condition));
    return `${expr} = ?`;
  }
  const parts: string[] = [];
  for (const [op, value] of Object.entries(condition)) {
    switch (op) {
      case "$in":
      case "$nin": {
        const list = value as Scalar[];
        const nonNull = list.filter((v) => v !== null);
        const hasNull = nonNull.length !== list.length;
        params.push(...nonNull.map(bind));
        const inList = nonNull.length > 0 ? `${expr} IN (${nonNull.map(() => "?").join(",")})` : "0";
        const clause = hasNull ? `(${inList} OR ${expr} IS NULL)` : inList;
        parts.push(op === "$in" ? clause : `NOT ${hasNull ? clause : `(${inList} AND ${expr} IS NOT NULL)`}`);
        break;
      }
      case "$ne":
        if (value === null) parts.push(`${expr} IS NOT NULL`);
        else {
          params.push(bind(value as Scalar));
          parts.push(`(${expr} IS NULL OR ${expr} <> ?)`);
        }
        break;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte": {
        const sqlOp = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" }[op];
        params.push(bind(value as Scalar));
        parts.push(`(${typeGuard(path, value as Scalar)} AND ${expr} ${sqlOp} ?)`);
        break;
      }
      case "$exists":
        parts.push(value ? `${typeExpr(path)} IS NOT NULL` : `${typeExpr(path)} IS NULL`);
        break;
    }
  }
  return parts.length > 0 ? parts.join(" AND ") : "1";
}

export function filterSql(filter: Filter | undefined): SqlFragment {
  const params: SqlFragment["params"] = [];
  const sql = filterClauses(filter ?? {}, params);
  return { sql, params };
}

function filterClauses(filter: Filter, params: SqlFragment["params"]): string {
  const clauses: string[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    if (condition === undefined) continue;
    if (field === "$or") {
      const subs = (condition as Filter[]).map((f) => `(${filterClauses(f, params)})`);
      clauses.push(subs.length > 0 ? `(${subs.join(" OR ")})` : "0");
      continue;
    }
    clauses.push(conditionSql(field, condition as FieldCondition, params));
  }
  return clauses.length > 0 ? clauses.join(" AND ") : "1";
}

export function orderSql(sort: SortSpec | undefined): string {
  const parts = (sort ?? []).map(([field, dir]) => `${fieldExpr(field)} ${dir === -1 ? "DESC" : "ASC"}`);
  // A final key on id makes paging stable when sort keys tie.
  if (!(sort ?? []).some(([f]) => f === "_id")) parts.push("id ASC");
  return `ORDER BY ${parts.join(", ")}`;
}
