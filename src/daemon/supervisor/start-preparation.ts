import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigPatchError } from "../../core/templates/config-patch.ts";
import { instanceVariables, normalizeTemplatePath } from "../../core/templates/index.ts";
import { configFormatOf } from "../../core/templates/platform-format.ts";
import type { ArtifactCache } from "../artifacts/index.ts";
import { ArtifactDigestError } from "../artifacts/index.ts";
import type { TemplateCache } from "../materialize/index.ts";
import {
  applyPlanConfigPatches,
  LayerIntegrityError,
  LayerUnavailableError,
  materialize,
} from "../materialize/index.ts";
import type { PortAllocator, PortRange } from "../ports/index.ts";
import { PortRangeExhaustedError, PortUnavailableError } from "../ports/index.ts";
import { expandArgv, jvmArgv, launchPlaceholders, stopCommandFor } from "./launch-command.ts";
import type { ManagedInstance } from "./managed-instance.ts";
import { instanceEnvironment } from "./process-env.ts";
import { type FailureDisposition, StartFailure, type StartStage } from "./start-failure.ts";
import type { SupervisorConfig, SupervisorDeps, SupervisorStartRequest } from "./supervisor-types.ts";

const DEFAULT_RCON_RANGE: PortRange = { start: 25575, end: 25774 };

/**
 * Servers that exit on first boot unless `eula.txt` says `eula=true`. The controller builds no plan
 * for them until the operator accepted the EULA (minecraft.acceptEula), so a plan here means yes.
 */
const EULA_PLATFORMS = new Set(["PAPER", "FOLIA", "PURPUR", "SPIGOT"]);

export interface PreparedStart {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly stopCommand: string;
}

export interface PreparationContext {
  readonly config: SupervisorConfig;
  readonly deps: SupervisorDeps;
  readonly ports: PortAllocator;
  readonly templates: TemplateCache;
  readonly artifacts: ArtifactCache;
}

/**
 * Everything between accepting a plan and spawning its process, stage by stage: ports, template
 * layers into the cache, the runtime artifact, the instance directory, then the command line and
 * environment. Each failure comes out as a `StartFailure` naming its stage and whether a retry of
 * the same plan can succeed.
 */
export async function prepareStart(
  context: PreparationContext,
  instance: ManagedInstance,
  request: SupervisorStartRequest,
): Promise<PreparedStart> {
  const { config, deps } = context;
  const plan = request.plan;
  const instanceDir = join(config.instancesDirectory, plan.instanceId);
  const launch = request.launch ?? { kind: "jvm" };
  const jarFile = await stage("VALIDATION", "INVALID_PLAN", async () =>
    plan.runtime.jarFile ? normalizeTemplatePath(plan.runtime.jarFile) : undefined,
  );

  await stage("VALIDATION", "PORT_UNAVAILABLE", async () => {
    if (plan.port > 0) {
      await context.ports.reserve(plan.instanceId, plan.port);
      instance.port = plan.port;
    } else if (request.portRange) {
      instance.port = await context.ports.allocate(plan.instanceId, request.portRange);
    } else {
      throw new StartFailure(
        "VALIDATION",
        "INVALID_PLAN",
        "the plan has no port and the start no port range",
        {
          disposition: "PERMANENT",
        },
      );
    }
    if (request.rcon) {
      let port = request.rcon.port;
      if (port === undefined) {
        port = await context.ports.allocate(plan.instanceId, config.rconPortRange ?? DEFAULT_RCON_RANGE);
      } else {
        await context.ports.reserve(plan.instanceId, port);
      }
      instance.rcon = { port, password: request.rcon.password ?? randomBytes(18).toString("base64url") };
    }
  });

  await stage("TEMPLATE_APPLY", "TEMPLATE_APPLY_FAILED", async () => {
    for (const layer of plan.templates) await context.templates.ensureLayer(layer, deps.fetchLayer);
  });

  const runtime = plan.runtime;
  const runtimeSource = await stage("RUNTIME_PROVISION", "RUNTIME_UNAVAILABLE", async () => {
    if (!runtime.sha256) {
      if (launch.kind === "jvm") {
        throw new StartFailure(
          "RUNTIME_PROVISION",
          "RUNTIME_UNAVAILABLE",
          "the plan names no runtime digest",
          {
            disposition: "PERMANENT",
          },
        );
      }
      return undefined;
    }
    return context.artifacts.ensure(runtime.sha256, deps.runtimeSource(runtime), {
      name: runtime.downloadUrl ? `${runtime.jarFile} from ${runtime.downloadUrl}` : runtime.jarFile,
    });
  });

  const variables = instanceVariables({
    instanceId: plan.instanceId,
    group: plan.groupName,
    port: instance.port,
    nodeId: config.nodeId,
    memoryMb: plan.memoryMb,
    ...(request.maxPlayers !== undefined ? { maxPlayers: request.maxPlayers } : {}),
    ...(request.motd !== undefined ? { motd: request.motd } : {}),
    ...(request.forwardingSecret !== undefined ? { forwardingSecret: request.forwardingSecret } : {}),
    resolved: {
      ...request.resolvedVariables,
      ...(instance.rcon
        ? { RCON_PORT: String(instance.rcon.port), RCON_PASSWORD: instance.rcon.password }
        : {}),
    },
  });
  await stage("TEMPLATE_APPLY", "TEMPLATE_APPLY_FAILED", () =>
    materialize(context.templates, {
      layers: plan.templates,
      instanceDir,
      variables,
      staticInstance: plan.staticInstance,
      protectedPaths: plan.protectedPaths,
      ...(runtimeSource && jarFile ? { runtime: { source: runtimeSource, fileName: jarFile } } : {}),
    }),
  );

  if (runtimeSource && jarFile) {
    // The jar about to run, not just the cached copy: a cache file changed after it was stored must
    // not run under the plan's name. Its copy is evicted, so the retry downloads a clean one.
    await stage("RUNTIME_PROVISION", "RUNTIME_HASH_MISMATCH", async () => {
      const actual = await sha256OfFile(join(instanceDir, jarFile));
      if (actual === runtime.sha256.toLowerCase()) return;
      await rm(runtimeSource, { force: true });
      throw new StartFailure(
        "RUNTIME_PROVISION",
        "RUNTIME_HASH_MISMATCH",
        `runtime ${jarFile} hashes to sha256 ${actual}, the plan pins ${runtime.sha256}; the cached copy was evicted`,
        { disposition: "TRANSIENT", retryAfterSeconds: 1 },
      );
    });
  }

  // After the templates, so the listen port, the forwarding mode and the group's own keys always
  // hold whatever a template shipped.
  await stage("CONFIG_PATCH", "CONFIG_PATCH_FAILED", () =>
    applyPlanConfigPatches(instanceDir, plan.configPatches, variables),
  );

  if (request.forwardingSecret && configFormatOf(runtime.platform) === "VELOCITY") {
    await stage("CONFIG_PATCH", "CONFIG_PATCH_FAILED", async () => {
      // velocity.toml names this file (forwarding-secret-file); owner-only, it is a credential.
      const file = join(instanceDir, "forwarding.secret");
      await writeFile(file, request.forwardingSecret!, { mode: 0o600 });
      await chmod(file, 0o600);
    });
  }

  if (EULA_PLATFORMS.has(runtime.platform.toUpperCase())) {
    await stage("TEMPLATE_APPLY", "TEMPLATE_APPLY_FAILED", async () => {
      const file = join(instanceDir, "eula.txt");
      await writeFile(file, "# accepted by the operator (minecraft.acceptEula)\neula=true\n");
      // A template may have shipped its own eula.txt with other permissions.
      await chmod(file, 0o600);
    });
  }

  return stage("PROCESS_START", "INVALID_LAUNCH", async () => {
    const argv =
      launch.kind === "jvm"
        ? jvmArgv({
            javaPath: launch.javaPath ?? config.javaPath ?? "java",
            memoryMb: plan.memoryMb,
            jvmArgs: plan.jvmArgs,
            jarFile: jarFile!,
            category: runtime.category,
            port: instance.port,
          })
        : expandArgv(
            launch.argv,
            launchPlaceholders({
              instanceId: plan.instanceId,
              group: plan.groupName,
              nodeId: config.nodeId,
              port: instance.port,
              memoryMb: plan.memoryMb,
              instanceDir,
              ...(runtimeSource && jarFile ? { jarPath: join(instanceDir, jarFile) } : {}),
              ...(instance.rcon
                ? { rconPort: instance.rcon.port, rconPassword: instance.rcon.password }
                : {}),
            }),
          );
    const env = instanceEnvironment({
      instanceId: plan.instanceId,
      group: plan.groupName,
      nodeId: config.nodeId,
      port: instance.port,
      cpuReservation: plan.isolation.cpuReservation,
      diskReservationMb: plan.isolation.diskReservationMb,
      planEnv: plan.env,
      ...(request.pluginToken !== undefined ? { pluginToken: request.pluginToken } : {}),
      ...(instance.rcon ? { rcon: instance.rcon } : {}),
    });
    const stopCommand =
      (launch.kind === "custom" ? launch.stopCommand : undefined) ??
      stopCommandFor(runtime.category, runtime.platform);
    return { argv, env, cwd: instanceDir, stopCommand };
  });
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Runs one stage and turns whatever it throws into a `StartFailure` for that stage. */
async function stage<T>(name: StartStage, code: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toStartFailure(err, name, code);
  }
}

export function toStartFailure(err: unknown, stage: StartStage, code: string): StartFailure {
  if (err instanceof StartFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  const fail = (errorCode: string, disposition: FailureDisposition, retryAfterSeconds = 0): StartFailure =>
    new StartFailure(stage, errorCode, message, { disposition, retryAfterSeconds, cause: err });

  if (err instanceof PortUnavailableError || err instanceof PortRangeExhaustedError) {
    return fail("PORT_UNAVAILABLE", "TRANSIENT", 5);
  }
  // The plan's own patch does not fit the files: the same plan fails the same way.
  if (err instanceof ConfigPatchError) return fail("CONFIG_PATCH_FAILED", "PERMANENT");
  // The bad copy was moved out of the cache, so the same plan fetches a fresh one on retry.
  if (err instanceof LayerIntegrityError) return fail("TEMPLATE_APPLY_FAILED", "TRANSIENT", 1);
  if (err instanceof LayerUnavailableError) return fail("TEMPLATE_APPLY_FAILED", "TRANSIENT", 10);
  // The source serves other bytes than the plan pinned; asking again will not change that.
  if (err instanceof ArtifactDigestError) return fail("RUNTIME_HASH_MISMATCH", "PERMANENT");
  // I/O trouble (disk full, a download cut off) may pass; anything else is in the plan itself.
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (stage === "RUNTIME_PROVISION" || typeof errno === "string") return fail(code, "TRANSIENT", 10);
  return fail(code, "PERMANENT");
}
