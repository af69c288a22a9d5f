import { Type as T, type TSchema } from "@sinclair/typebox";

/**
 * Building blocks for the success answers routes declare (`RouteDef.response`). They go into the
 * OpenAPI document, where the CI fuzz run checks every answer against them; they are not enforced
 * at run time. Objects allow further properties unless a route says otherwise, so adding a field
 * is not a breaking change, but every property listed is typed and the required ones are there.
 */

export const Iso = T.String({ format: "date-time" });
export const Nullable = <S extends TSchema>(schema: S) => T.Union([schema, T.Null()]);
export const NullableIso = Nullable(Iso);

/** `{ status: "DELETED" }` and the like: what a command route answers. */
export function StatusAnswer(...values: [string, ...string[]]) {
  return T.Object({
    status: values.length === 1 ? T.Literal(values[0]) : T.Union(values.map((v) => T.Literal(v))),
  });
}

/** `{data, page, pageSize, total}` (spec §4 "Lists"). */
export function Paged<S extends TSchema>(item: S) {
  return T.Object({
    data: T.Array(item),
    page: T.Integer({ minimum: 1 }),
    pageSize: T.Integer({ minimum: 1 }),
    total: T.Integer({ minimum: 0 }),
  });
}

/** `{data: [...]}`: an unpaged list (bounded by what it lists). */
export function DataOf<S extends TSchema>(item: S) {
  return T.Object({ data: T.Array(item) });
}

/** Any JSON object: for answers whose keys are data (settings, plans, free-form details). */
export const AnyObject = T.Object({}, { additionalProperties: true });
