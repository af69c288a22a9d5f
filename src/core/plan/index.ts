export * from "./build-plan.ts";
export * from "./canonical-json.ts";
export * from "./plan-hash.ts";
export * from "./plan-types.ts";
