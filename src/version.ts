import pkg from "../package.json" with { type: "json" };

/** Build-time identity; `build/compile.ts` overrides the commit through a define. */
declare const PREXOR_GIT_COMMIT: string | undefined;
/** The commit's date (not the wall clock), so the same commit compiles to the same bytes. */
declare const PREXOR_BUILD_DATE: string | undefined;

export const VERSION: string = pkg.version;
export const GIT_COMMIT: string = typeof PREXOR_GIT_COMMIT === "string" ? PREXOR_GIT_COMMIT : "dev";
export const BUILD_DATE: string = typeof PREXOR_BUILD_DATE === "string" ? PREXOR_BUILD_DATE : "unknown";
/** gRPC wire protocol generation; bumped only for incompatible changes. */
export const PROTOCOL_VERSION = 1;

export function versionInfo() {
  return {
    version: VERSION,
    gitCommit: GIT_COMMIT,
    buildDate: BUILD_DATE,
    protocolVersion: PROTOCOL_VERSION,
    runtime: `bun ${Bun.version}`,
    os: process.platform,
    arch: process.arch,
  };
}
