export * from "./classify-crash.ts";
export * from "./crash-class.ts";
export * from "./crash-loop.ts";
export * from "./crash-signature.ts";
export * from "./log-line.ts";
