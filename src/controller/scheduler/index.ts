/** The pure scheduler core: plain data in, actions and diagnostics out. The controller loop does the I/O. */
export { DEFAULT_GROUP, DEFAULT_SETTINGS, SCORE_WEIGHTS, schedGroup } from "./defaults.ts";
export { explainPlacement } from "./explain.ts";
export { scheduleTick } from "./tick.ts";
export type * from "./types.ts";
