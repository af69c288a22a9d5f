import { Type as T, type TSchema } from "@sinclair/typebox";

/**
 * Shared building blocks for the REST contract's schemas (src/api/): plain TypeBox, no server code,
 * so prexorctl can derive its types from the same definitions the routes and the OpenAPI document use.
 */
export const Iso = T.String({ format: "date-time" });
export const Nullable = <S extends TSchema>(schema: S) => T.Union([schema, T.Null()]);
