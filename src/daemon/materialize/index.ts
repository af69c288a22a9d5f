export * from "./config-patches.ts";
export * from "./layer-errors.ts";
export * from "./materialize.ts";
export * from "./template-cache.ts";
