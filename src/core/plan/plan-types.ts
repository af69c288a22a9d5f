import type { ConfigFormat } from "../templates/platform-format.ts";
import type { TemplateSource } from "../templates/template-chain.ts";

export type InstanceCategory = "SERVER" | "PROXY";
export type RuntimeFamily = InstanceCategory | "UNKNOWN";
export type ConfigPatchOp = "SET" | "REPLACE" | "REGEX";

export interface PlanIsolation {
  /** Fraction of the node's CPU, 0..1. */
  readonly cpuReservation: number;
  readonly diskReservationMb: number;
}

/** One layer of the template chain, pinned to the content hash the daemon must materialize. */
export interface PlanTemplateLayer {
  readonly name: string;
  readonly hash: string;
  readonly source: TemplateSource;
  /** Version number in the template's history, for operators; the hash is what identifies content. */
  readonly version?: number;
}

export interface RuntimeTarget {
  readonly platform: string;
  readonly platformVersion: string;
  readonly family: RuntimeFamily;
}

/** The server or proxy jar: where it comes from and the digest it must have. */
export interface PlanRuntime {
  readonly jarFile: string;
  readonly downloadUrl: string;
  readonly sha256: string;
  readonly platform: string;
  readonly platformVersion: string;
  /** The publisher's build number (PaperMC) the digest belongs to; absent for operator-added jars. */
  readonly build?: number;
  readonly category: InstanceCategory;
  readonly configFormat?: ConfigFormat;
  readonly runtimeTarget?: RuntimeTarget;
}

/** A module-provided plugin/extension jar installed into the instance. */
export interface PlanExtension {
  readonly moduleId: string;
  readonly extensionId: string;
  readonly target: string;
  readonly activation: string;
  readonly variantId: string;
  readonly mcVersionRange: string;
  readonly artifact: string;
  readonly downloadUrl: string;
  readonly sha256: string;
  readonly installPath: string;
}

export interface PlanConfigPatch {
  readonly op: ConfigPatchOp;
  readonly file: string;
  /** Key (properties) or dotted path (YAML/TOML/JSON) inside `file`. */
  readonly path: string;
  readonly value: string;
}

/** The lease under which the plan was written; the store rejects a write fenced by an older token. */
export interface PlanFencing {
  readonly scope: string;
  readonly token: number;
}

/** Everything that decides what the instance is; `planHash` covers exactly these fields. */
export interface CompositionPlanContent {
  readonly instanceId: string;
  readonly groupName: string;
  readonly nodeId: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly isolation: PlanIsolation;
  readonly jvmArgs: readonly string[];
  /** Group env plus `CLOUD_CONTROLLER_URL`; never secrets. */
  readonly env: Readonly<Record<string, string>>;
  readonly staticInstance: boolean;
  readonly protectedPaths: readonly string[];
  /** Lowest layer first. */
  readonly templates: readonly PlanTemplateLayer[];
  readonly runtime: PlanRuntime;
  readonly extensions: readonly PlanExtension[];
  /** In resolved (application) order. */
  readonly configPatches: readonly PlanConfigPatch[];
  /** Instance-scope variable values; SECRET variables appear as `scheme://ref`, never resolved. */
  readonly variableOverrides: Readonly<Record<string, string>>;
}

/**
 * A persisted composition plan. The fields beside the content are bookkeeping or dispatch-time values
 * and are deliberately outside the hash: a controller that takes over rebuilds or re-reads the plan under
 * its own lease and clock and must arrive at the same hash.
 */
export interface CompositionPlan extends CompositionPlanContent {
  readonly planHash: string;
  /** ISO-8601. */
  readonly createdAt: string;
  /** Always `PLUGIN_TOKEN_PLACEHOLDER` at rest; the real token is minted and swapped in at dispatch. */
  readonly pluginToken: string;
  readonly fencing: PlanFencing;
  /** Controller addresses handed to the cloud plugin; deployment-dependent, so not content. */
  readonly controllerSeeds?: readonly string[];
}
