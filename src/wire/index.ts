/**
 * The controller <-> daemon wire contract: generated messages, enums and nice-grpc service
 * definitions (from proto/prexor/v1 via `bun run gen:proto`), plus the constants both sides share.
 */

export * from "../proto/prexor/v1/bootstrap.ts";
export * from "../proto/prexor/v1/daemon.ts";
export * from "./contract.ts";
export type { MessageType } from "./proto-runtime.ts";
