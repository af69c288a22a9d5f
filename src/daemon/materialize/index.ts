export * from "./layer-errors.ts";
export * from "./materialize.ts";
export * from "./template-cache.ts";
