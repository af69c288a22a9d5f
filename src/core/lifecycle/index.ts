export * from "./instance-state.ts";
export * from "./transitions.ts";
