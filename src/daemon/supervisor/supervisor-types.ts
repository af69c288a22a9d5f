import { join, resolve } from "node:path";
import type { DaemonConfig } from "../../config/daemon-schema.ts";
import type { ProcessExit } from "../../core/crash/index.ts";
import type { InstanceState } from "../../core/lifecycle/index.ts";
import type { CompositionPlanContent, PlanRuntime } from "../../core/plan/index.ts";
import type { ArtifactSource } from "../artifacts/index.ts";
import type { LayerFetcher } from "../materialize/index.ts";
import type { PortRange } from "../ports/index.ts";
import type { CrashReport } from "./crash-report.ts";
import type { LaunchSpec } from "./launch-command.ts";
import type { ReadinessSpec } from "./readiness.ts";
import type { FailureDisposition, StartStage } from "./start-failure.ts";
import type { StopStep, Timers } from "./stop-sequence.ts";

/** A plan as the daemon receives it: the hashed content plus its hash. */
export type SupervisedPlan = CompositionPlanContent & { readonly planHash: string };

/** One StartInstance, in daemon terms. Only `plan` is required. */
export interface SupervisorStartRequest {
  readonly plan: SupervisedPlan;
  /** Secret for the cloud plugin; passed as CLOUD_PLUGIN_TOKEN, never logged or persisted. */
  readonly pluginToken?: string;
  /** Default: the JVM path (`java … -jar <runtime.jarFile>`). */
  readonly launch?: LaunchSpec;
  /** Overrides the default (the platform's console ready line or a Server List Ping, whichever is first). */
  readonly readiness?: ReadinessSpec;
  /** Used when the plan carries no port (0): the lowest free port of this range is taken. */
  readonly portRange?: PortRange;
  /** Enables RCON: the daemon picks a port (unless given) and a password (unless given). */
  readonly rcon?: { readonly port?: number; readonly password?: string };
  /** Zero or absent: the daemon default. */
  readonly startupTimeoutSeconds?: number;
  /** SIGTERM grace before SIGKILL (the group's `shutdownGraceSeconds`); absent: daemon default. */
  readonly shutdownGraceSeconds?: number;
  /** Zero or absent: unlimited. */
  readonly maxLifetimeSeconds?: number;
  readonly maxPlayers?: number;
  readonly motd?: string;
  readonly forwardingSecret?: string;
  /** Controller-resolved typed variables (`StartInstance.resolved_variables`). */
  readonly resolvedVariables?: Readonly<Record<string, string>>;
}

/** The answer to a start, shaped like StartInstanceAck. */
export type StartOutcome =
  | {
      readonly accepted: true;
      /** The plan hash was applied before: nothing new was started. */
      readonly alreadyApplied: boolean;
      readonly instanceId: string;
      readonly planHash: string;
      readonly port?: number;
      readonly pid?: number;
    }
  | {
      readonly accepted: false;
      readonly alreadyApplied: false;
      readonly instanceId: string;
      readonly planHash: string;
      readonly stage: StartStage;
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly disposition: FailureDisposition;
      readonly retryAfterSeconds: number;
    };

export interface SupervisorStopRequest {
  /** Kill at once instead of stop command → SIGTERM → SIGKILL. */
  readonly force?: boolean;
  readonly reason?: string;
}

export type StopOutcome =
  | {
      readonly accepted: true;
      readonly instanceId: string;
      readonly step?: StopStep;
      readonly exit?: ProcessExit;
    }
  | { readonly accepted: false; readonly instanceId: string; readonly errorMessage: string };

/** Everything the supervisor tells the daemon link. */
export type SupervisorEvent =
  | {
      readonly type: "state";
      readonly instanceId: string;
      readonly group: string;
      readonly planHash: string;
      readonly port: number;
      readonly from: InstanceState;
      readonly to: InstanceState;
      readonly detail: string;
      readonly atMs: number;
    }
  | { readonly type: "crash"; readonly report: CrashReport }
  /** A RUNNING instance's Server List Ping answered a different players block than before. */
  | { readonly type: "players"; readonly instanceId: string; readonly playerCount: number };

/** One supervised instance as it is right now (Hello.running_instances, Heartbeat.instances). */
export interface InstanceSnapshot {
  readonly instanceId: string;
  readonly group: string;
  readonly planHash: string;
  readonly state: InstanceState;
  readonly port: number;
  readonly rconPort?: number;
  readonly pid?: number;
  /** True while the OS process exists. */
  readonly processAlive: boolean;
  readonly startedAtMs?: number;
  readonly uptimeMs: number;
  readonly detail: string;
  readonly exit?: ProcessExit;
  /** `players.online` from the last Server List Ping while RUNNING; absent before the first answer. */
  readonly playerCount?: number;
  /** `players.max` from the same ping. */
  readonly maxPlayers?: number;
  /** Names in the same ping's player sample. */
  readonly playerSample?: readonly string[];
  /** Their UUIDs, position by position ("" where the server sent none). */
  readonly playerSampleIds?: readonly string[];
  /**
   * The start was refused before a process ran; the refusal travels in StartInstanceAck, so this
   * record is the daemon's own bookkeeping and never reported to the controller as a state.
   */
  readonly startRefused?: boolean;
}

/** Daemon settings the supervisor uses (mostly `daemon.yml: instances.*`). */
export interface SupervisorConfig {
  readonly nodeId: string;
  readonly instancesDirectory: string;
  readonly cacheDirectory: string;
  /** JSON file recording applied plan hashes. */
  readonly stateFile: string;
  readonly shutdownTimeoutSeconds: number;
  readonly killTimeoutSeconds: number;
  readonly logRingBufferLines: number;
  readonly maxConsoleOutputLinesPerSecond: number;
  readonly defaultStartupTimeoutSeconds?: number;
  readonly javaPath?: string;
  /** Where RCON ports come from when a start enables RCON without naming one. */
  readonly rconPortRange?: PortRange;
  /** Address the daemon pings and reaches RCON on (instances run on this host). */
  readonly localAddress?: string;
  readonly readinessPollMs?: number;
  /**
   * Player counts without a plugin: how often RUNNING instances are pinged, how many pings at once,
   * and each ping's timeout. Absent: 5 s, 8, 2 s. `intervalMs: 0` turns polling off.
   */
  readonly playerCountPoll?: {
    readonly intervalMs: number;
    readonly concurrency: number;
    readonly timeoutMs: number;
  };
  /**
   * Recompute planHash from the plan's content and refuse a mismatch (default true). Only possible
   * when the plan arrives with every hashed field; a link that rebuilds plans from a wire format that
   * drops some of them must turn this off and rely on the hash as an identifier.
   */
  readonly verifyPlanHash?: boolean;
}

/** Maps daemon.yml onto the supervisor's settings; paths resolve against `baseDir`. */
export function supervisorConfigFromDaemon(config: DaemonConfig, baseDir: string): SupervisorConfig {
  const instancesDirectory = resolve(baseDir, config.instances.directory);
  return {
    nodeId: config.nodeId,
    instancesDirectory,
    cacheDirectory: resolve(baseDir, config.cache.directory),
    stateFile: join(instancesDirectory, ".applied-plans.json"),
    shutdownTimeoutSeconds: config.instances.shutdownTimeoutSeconds,
    killTimeoutSeconds: config.instances.killTimeoutSeconds,
    logRingBufferLines: config.instances.logRingBufferLines,
    maxConsoleOutputLinesPerSecond: config.instances.maxConsoleOutputLinesPerSecond,
    playerCountPoll: config.instances.playerCountPoll,
  };
}

/** A structured logger (pino's call shape). */
export interface SupervisorLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SupervisorDeps {
  /** Fetches a template layer at its hash (from the controller). */
  readonly fetchLayer: LayerFetcher;
  /** Where a runtime jar's bytes come from (controller chunks, or its download URL). */
  readonly runtimeSource: (runtime: PlanRuntime) => ArtifactSource;
  readonly onEvent: (event: SupervisorEvent) => void;
  readonly logger?: SupervisorLogger;
  readonly now?: () => number;
  readonly timers?: Timers;
}
