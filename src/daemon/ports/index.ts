export * from "./bind-probe.ts";
export * from "./port-allocator.ts";
