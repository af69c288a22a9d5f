import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { InstanceState } from "../../../src/core/lifecycle/index.ts";
import {
  type CompositionPlan,
  type CompositionPlanContent,
  createCompositionPlan,
  type PlanRuntime,
  type PlanTemplateLayer,
} from "../../../src/core/plan/index.ts";
import type { TemplateFile } from "../../../src/core/templates/index.ts";
import { hashTemplateFiles } from "../../../src/core/templates/index.ts";
import { chunkedArtifactSource } from "../../../src/daemon/artifacts/index.ts";
import {
  type LaunchSpec,
  Supervisor,
  type SupervisorConfig,
  type SupervisorDeps,
  type SupervisorEvent,
} from "../../../src/daemon/supervisor/index.ts";
import { tempDir } from "../temp-dirs.ts";
import { waitFor } from "../wait.ts";

export const LAUNCHER = join(import.meta.dir, "flying-squid-launcher.ts");

/** The flying-squid workload through the `custom` launch path (run by the Bun running the tests). */
export function flyingSquidLaunch(): LaunchSpec {
  return { kind: "custom", argv: [process.execPath, LAUNCHER, "--port", "{PORT}"] };
}

const encoder = new TextEncoder();

/** A template layer held in memory, as the controller would serve it. */
export function layer(
  name: string,
  files: Record<string, string | Uint8Array>,
): {
  ref: PlanTemplateLayer;
  files: TemplateFile[];
} {
  const list = Object.entries(files).map(([path, content]) => ({
    path,
    bytes: typeof content === "string" ? encoder.encode(content) : content,
  }));
  return { ref: { name, hash: hashTemplateFiles(list), source: "user" }, files: list };
}

export const SERVER_LAYER = layer("base-paper", {
  "server.properties": "server-port=%PORT%\nmotd=%MOTD%\nmax-players=%MAX_PLAYERS%\n",
  "eula.txt": "eula=true\n",
});

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

let sequence = 0;

/** A sealed plan for tests; every call gets a fresh instance id (so a fresh plan hash). */
export function testPlan(overrides: Partial<CompositionPlanContent> = {}): CompositionPlan {
  sequence++;
  const runtime: PlanRuntime = {
    jarFile: "server.jar",
    downloadUrl: "",
    sha256: "",
    platform: "PAPER",
    platformVersion: "1.21.4",
    category: "SERVER",
  };
  return createCompositionPlan(
    {
      instanceId: `test-${process.pid}-${sequence}`,
      groupName: "test",
      nodeId: "node-1",
      port: 0,
      memoryMb: 256,
      isolation: { cpuReservation: 0, diskReservationMb: 0 },
      jvmArgs: [],
      env: {},
      staticInstance: false,
      protectedPaths: [],
      templates: [SERVER_LAYER.ref],
      runtime,
      extensions: [],
      configPatches: [],
      variableOverrides: {},
      ...overrides,
    },
    { now: new Date(), fencing: { scope: "group:test", token: 1 } },
  );
}

export interface TestSupervisor {
  readonly supervisor: Supervisor;
  readonly events: SupervisorEvent[];
  readonly dir: string;
  readonly config: SupervisorConfig;
  /** Waits until the instance reported `state` (any time so far). */
  waitForState(instanceId: string, state: InstanceState, timeoutMs?: number): Promise<void>;
  statesOf(instanceId: string): InstanceState[];
  /** Kills whatever still runs and removes the directories. */
  cleanup(): Promise<void>;
}

export interface TestSupervisorOptions {
  readonly layers?: readonly { files: TemplateFile[]; ref: PlanTemplateLayer }[];
  readonly runtimes?: ReadonlyMap<string, Uint8Array>;
  readonly config?: Partial<SupervisorConfig>;
  readonly deps?: Partial<SupervisorDeps>;
  readonly dir?: string;
}

export async function createTestSupervisor(options: TestSupervisorOptions = {}): Promise<TestSupervisor> {
  const dir = options.dir ?? tempDir("prexor-daemon-");
  const layers = new Map(
    [SERVER_LAYER, ...(options.layers ?? [])].map((entry) => [entry.ref.hash, entry.files] as const),
  );
  const events: SupervisorEvent[] = [];
  const config: SupervisorConfig = {
    nodeId: "node-1",
    instancesDirectory: join(dir, "instances"),
    cacheDirectory: join(dir, "cache"),
    stateFile: join(dir, "instances", ".applied-plans.json"),
    shutdownTimeoutSeconds: 10,
    killTimeoutSeconds: 5,
    logRingBufferLines: 500,
    maxConsoleOutputLinesPerSecond: 200,
    defaultStartupTimeoutSeconds: 30,
    readinessPollMs: 50,
    ...options.config,
  };
  const supervisor = await Supervisor.create(config, {
    fetchLayer: async (ref) => {
      const files = layers.get(ref.hash);
      if (!files) throw new Error(`no layer ${ref.name} at ${ref.hash}`);
      return files;
    },
    runtimeSource: (runtime) => {
      const bytes = options.runtimes?.get(runtime.sha256);
      if (!bytes) throw new Error(`no runtime ${runtime.sha256}`);
      return chunkedArtifactSource([bytes]);
    },
    onEvent: (event) => events.push(event),
    ...options.deps,
  });
  const statesOf = (instanceId: string): InstanceState[] =>
    events.flatMap((event) => (event.type === "state" && event.instanceId === instanceId ? [event.to] : []));
  return {
    supervisor,
    events,
    dir,
    config,
    statesOf,
    waitForState: async (instanceId, state, timeoutMs = 20_000) => {
      await waitFor(() => statesOf(instanceId).includes(state), {
        timeoutMs,
        what: `${instanceId} to reach ${state} (seen: ${statesOf(instanceId).join(" → ") || "nothing"})`,
      });
    },
    cleanup: async () => {
      await supervisor.stopAll({ force: true });
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
