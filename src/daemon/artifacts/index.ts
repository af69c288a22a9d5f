export * from "./artifact-cache.ts";
export * from "./artifact-sources.ts";
