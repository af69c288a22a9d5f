import type { GroupSpec } from "../../core/groups/group-schema.ts";
import {
  type CompositionPlanContent,
  type PlanConfigPatch,
  type PlanRuntime,
  planEnvironment,
} from "../../core/plan/index.ts";
import {
  conventionPatches,
  type ForwardingRole,
  jvmFlagsFor,
  needsForwardingSecret,
} from "../../core/plan/minecraft-conventions.ts";
import { configFormatOf } from "../../core/templates/platform-format.ts";
import { resolveTemplateChain } from "../../core/templates/template-chain.ts";
import type { CatalogEntry } from "../catalog/catalog-service.ts";
import type { DispatchExtras } from "./instance-doc.ts";

const PROXY_PLATFORMS = new Set(["VELOCITY", "BUNGEECORD", "WATERFALL"]);

export interface PlanInputs {
  instanceId: string;
  nodeId: string;
  port: number;
  group: GroupSpec;
  /** null for a platform that needs no artifact (CUSTOM without a catalog entry) */
  artifact: CatalogEntry | null;
  /** every template that exists, with its current content hash ("" = empty) */
  templates: ReadonlyMap<string, string>;
  controllerUrl: string;
  /** epoch ms of this placement; see `CLOUD_PLACED_AT` */
  placedAt: number;
  /** where the group sits in the network compositions (forwarding conventions); none by default */
  forwarding?: ForwardingRole;
}

/**
 * The content of a composition plan from the resolved group, the catalog artifact and the template
 * chain pinned at the current content hashes. Pure, so the same inputs always give the same planHash.
 * Returns the layers the chain names but that do not exist, for the caller to log.
 */
export function buildPlanContent(inputs: PlanInputs): {
  content: CompositionPlanContent;
  skippedLayers: string[];
  dispatch: DispatchExtras;
} {
  const { group } = inputs;
  const forwarding = inputs.forwarding ?? { kind: "none" };
  const chain = resolveTemplateChain({
    groupName: group.name,
    platform: group.platform,
    userTemplates: group.templates,
    existing: new Set(inputs.templates.keys()),
  });
  const category = PROXY_PLATFORMS.has(group.platform) ? "PROXY" : "SERVER";
  const configFormat = configFormatOf(group.platform);
  const runtime: PlanRuntime = {
    jarFile: group.jarFile,
    // Controller-served artifacts have no URL: the daemon fetches them by digest over its stream.
    downloadUrl: inputs.artifact?.source?.kind === "url" ? inputs.artifact.source.url : "",
    sha256: inputs.artifact?.sha256 ?? "",
    platform: group.platform,
    platformVersion: inputs.artifact?.version ?? group.platformVersion,
    ...(inputs.artifact?.build ? { build: inputs.artifact.build } : {}),
    category,
    ...(configFormat ? { configFormat } : {}),
  };
  const content: CompositionPlanContent = {
    instanceId: inputs.instanceId,
    groupName: group.name,
    nodeId: inputs.nodeId,
    port: inputs.port,
    memoryMb: group.memoryMb,
    isolation: { cpuReservation: group.cpuReservation, diskReservationMb: group.diskReservationMb },
    jvmArgs: jvmFlagsFor(group.platform, group.jvmArgs),
    // The placement time makes a re-placement of the same id (a static instance, a reused `-N`) a new
    // plan: the daemon refuses a hash it already applied, so identical content would never start again.
    // Re-dispatch re-sends the persisted plan, so it keeps its hash.
    env: { ...planEnvironment(group.env, inputs.controllerUrl), CLOUD_PLACED_AT: String(inputs.placedAt) },
    staticInstance: group.static,
    protectedPaths: group.static ? [...group.protectedPaths] : [],
    templates: chain.layers.map((layer) => ({
      name: layer.name,
      hash: inputs.templates.get(layer.name) ?? "",
      source: layer.source,
    })),
    runtime,
    extensions: [],
    // Conventions first, so a group's own patch of the same key wins (SET is last-wins).
    configPatches: [
      ...conventionPatches(group.platform, forwarding),
      ...configPatchesOf(group.configPatches),
    ],
    variableOverrides: {},
  };
  return {
    content,
    skippedLayers: chain.skipped.map((layer) => layer.name),
    dispatch: {
      launchArgv: group.platform === "CUSTOM" ? [...group.argvTemplate] : [],
      readiness: group.readiness,
      startupTimeoutSeconds: group.startupTimeoutSeconds,
      shutdownGraceSeconds: group.shutdownGraceSeconds,
      maxLifetimeSeconds: group.maxLifetimeSeconds,
      maxPlayers: group.maxPlayers,
      forwarding: needsForwardingSecret(group.platform, forwarding),
    },
  };
}

/** Group `configPatches` (file → key → value) as SET patches, sorted by file then key. */
function configPatchesOf(patches: GroupSpec["configPatches"]): PlanConfigPatch[] {
  const out: PlanConfigPatch[] = [];
  for (const file of Object.keys(patches).sort()) {
    const entries = patches[file] ?? {};
    for (const key of Object.keys(entries).sort()) {
      const value = entries[key];
      out.push({
        op: "SET",
        file,
        path: key,
        value: typeof value === "string" ? value : JSON.stringify(value),
      });
    }
  }
  return out;
}
