import type {
  CompositionPlanContent,
  ConfigPatchOp as CorePatchOp,
  PlanRuntime,
} from "../core/plan/plan-types.ts";
import type { ConfigFormat as CoreConfigFormat } from "../core/templates/platform-format.ts";
import type { TemplateSource } from "../core/templates/template-chain.ts";
import {
  CompositionPlan,
  ConfigFormat,
  ConfigPatchOp,
  InstanceCategory,
  RuntimeArtifact,
} from "../proto/prexor/v1/daemon.ts";

/**
 * Composition plans between their core shape and the wire. Both ends use these two functions, so a
 * plan the controller sealed decodes on the daemon into exactly the content it hashed and the daemon
 * can recompute `planHash` itself. The wire has no room for extension targets or a runtime target,
 * so a plan carrying those would not survive the trip: `planToWire` refuses them rather than letting
 * the daemon reject the hash later.
 */
const SOURCES: readonly TemplateSource[] = ["base", "platform-base", "group", "user"];
const PATCH_OPS: Record<CorePatchOp, ConfigPatchOp> = {
  SET: ConfigPatchOp.SET,
  REPLACE: ConfigPatchOp.REPLACE,
  REGEX: ConfigPatchOp.REGEX,
};

export function planToWire(
  plan: CompositionPlanContent & { readonly planHash: string },
  createdAtMs: number,
): CompositionPlan {
  if (plan.extensions.length > 0 || plan.runtime.runtimeTarget !== undefined) {
    throw new Error("plans with extensions or a runtime target cannot be sent over protocol 1");
  }
  if (plan.templates.some((layer) => layer.version !== undefined)) {
    throw new Error("template layer versions are not part of the wire plan");
  }
  return CompositionPlan.create({
    planHash: plan.planHash,
    instanceId: plan.instanceId,
    group: plan.groupName,
    nodeId: plan.nodeId,
    port: plan.port,
    memoryMb: plan.memoryMb,
    isolation: {
      cpuReservation: plan.isolation.cpuReservation,
      diskReservationMb: plan.isolation.diskReservationMb,
    },
    jvmArgs: [...plan.jvmArgs],
    env: { ...plan.env },
    staticInstance: plan.staticInstance,
    protectedPaths: [...plan.protectedPaths],
    templates: plan.templates.map((t) => ({ name: t.name, sha256: t.hash, source: t.source })),
    runtime: runtimeToWire(plan.runtime),
    extensions: [],
    configPatches: plan.configPatches.map((p) => ({
      file: p.file,
      key: p.path,
      value: p.value,
      op: PATCH_OPS[p.op],
    })),
    variableOverrides: { ...plan.variableOverrides },
    createdAtMs,
  });
}

function runtimeToWire(runtime: PlanRuntime): RuntimeArtifact {
  return RuntimeArtifact.create({
    jarFile: runtime.jarFile,
    downloadUrl: runtime.downloadUrl,
    sha256: runtime.sha256,
    platform: runtime.platform,
    platformVersion: runtime.platformVersion,
    build: runtime.build ?? 0,
    category: runtime.category === "PROXY" ? InstanceCategory.PROXY : InstanceCategory.SERVER,
    configFormat: runtime.configFormat ? ConfigFormat[runtime.configFormat] : ConfigFormat.UNSPECIFIED,
  });
}

/** The inverse of `planToWire`; throws on a plan that is missing its runtime or is malformed. */
export function planFromWire(wire: CompositionPlan): CompositionPlanContent & { readonly planHash: string } {
  const runtime = wire.runtime;
  if (!runtime) throw new Error("the plan names no runtime");
  const configFormat =
    runtime.configFormat === ConfigFormat.UNSPECIFIED
      ? undefined
      : (ConfigFormat[runtime.configFormat] as CoreConfigFormat | undefined);
  return {
    planHash: wire.planHash,
    instanceId: wire.instanceId,
    groupName: wire.group,
    nodeId: wire.nodeId,
    port: wire.port,
    memoryMb: wire.memoryMb,
    isolation: {
      cpuReservation: wire.isolation?.cpuReservation ?? 0,
      diskReservationMb: wire.isolation?.diskReservationMb ?? 0,
    },
    jvmArgs: wire.jvmArgs,
    env: wire.env,
    staticInstance: wire.staticInstance,
    protectedPaths: wire.protectedPaths,
    templates: wire.templates.map((t) => ({
      name: t.name,
      hash: t.sha256,
      source: SOURCES.includes(t.source as TemplateSource) ? (t.source as TemplateSource) : "user",
    })),
    runtime: {
      jarFile: runtime.jarFile,
      downloadUrl: runtime.downloadUrl,
      sha256: runtime.sha256,
      platform: runtime.platform,
      platformVersion: runtime.platformVersion,
      ...(runtime.build > 0 ? { build: runtime.build } : {}),
      category: runtime.category === InstanceCategory.PROXY ? "PROXY" : "SERVER",
      ...(configFormat ? { configFormat } : {}),
    },
    extensions: [],
    configPatches: wire.configPatches.map((p) => ({
      op: p.op === ConfigPatchOp.REGEX ? "REGEX" : p.op === ConfigPatchOp.REPLACE ? "REPLACE" : "SET",
      file: p.file,
      path: p.key,
      value: p.value,
    })),
    variableOverrides: wire.variableOverrides,
  };
}
