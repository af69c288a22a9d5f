import pkg from "../package.json" with { type: "json" };

/** Build-time identity; `build/compile.ts` overrides the commit through a define. */
declare const PREXOR_GIT_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
export const GIT_COMMIT: string = typeof PREXOR_GIT_COMMIT === "string" ? PREXOR_GIT_COMMIT : "dev";
/** gRPC wire protocol generation; bumped only for incompatible changes. */
export const PROTOCOL_VERSION = 1;

export function versionInfo() {
  return {
    version: VERSION,
    gitCommit: GIT_COMMIT,
    protocolVersion: PROTOCOL_VERSION,
    runtime: `bun ${Bun.version}`,
    os: process.platform,
    arch: process.arch,
  };
}
