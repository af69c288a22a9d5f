/** The imperative scheduler loop: reads the world, runs the pure core, applies its actions under leases. */
export { countOpenDrains } from "./drain-workflow.ts";
export { SchedulerLoop, type SchedulerLoopOptions } from "./scheduler-loop.ts";
export { type TickReport, toTickView } from "./tick-report.ts";
