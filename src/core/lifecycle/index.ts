export * from "./instance-state.ts";
export * from "./node-state.ts";
export * from "./transitions.ts";
