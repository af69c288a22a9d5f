import type { PlanRuntime } from "../../core/plan/index.ts";
import {
  CrashReport,
  FailureDisposition,
  FileAccessStatus,
  InstanceFileContent,
  InstanceFileTree,
  type ProxyRoutes,
  ProxyRoutesAck,
  type ReadInstanceFile,
  type SendCommand,
  type StartInstance,
  StartInstanceAck,
  StartStage,
  type StopInstance,
  StopInstanceAck,
  type WalkInstanceFiles,
} from "../../wire/index.ts";
import { decodeLayerBundle } from "../../wire/layer-bundle.ts";
import { planFromWire } from "../../wire/plan-wire.ts";
import { type ArtifactSource, chunkedArtifactSource, httpArtifactSource } from "../artifacts/index.ts";
import type { LayerRef } from "../materialize/index.ts";
import type {
  ReadinessSpec,
  Supervisor,
  CrashReport as SupervisorCrash,
  SupervisorEvent,
  SupervisorStartRequest,
} from "../supervisor/index.ts";
import { readInstanceFile, walkInstanceDir } from "../supervisor/instance-files.ts";
import { type ArtifactFetcher, ArtifactKind } from "./artifact-fetcher.ts";
import type { LinkCommands, LinkInstance } from "./supervisor-port.ts";

/** What the adapter needs from the link: report frames to the controller. */
export interface LinkReporter {
  reportInstance(instance: LinkInstance): void;
  reportCrash(report: CrashReport): void;
  reportConsoleLine(instanceId: string, line: string, timestampMs: number): void;
}

/**
 * Wire frames in, supervisor calls out, and supervisor events back out as frames: StartInstance
 * becomes a SupervisorStartRequest (the plan decoded to exactly the content the controller hashed, so the
 * supervisor still verifies planHash), acks and crash reports are shaped for the wire, template
 * layers and controller-served runtimes are fetched over the same stream.
 */
export class SupervisorAdapter implements LinkCommands {
  private link: LinkReporter | undefined;
  private readonly consoles = new Map<string, () => void>();
  /**
   * Events of starts still being decided. A refused start is answered by its ack alone: had its
   * PREPARING → CRASHED states gone out first, the controller would end an instance it is about to
   * retry.
   */
  private readonly deciding = new Map<string, SupervisorEvent[]>();

  constructor(
    private readonly supervisor: () => Supervisor,
    private readonly artifacts: ArtifactFetcher,
  ) {}

  attach(link: LinkReporter): void {
    this.link = link;
  }

  /** `SupervisorDeps.fetchLayer`: the layer's files at exactly the pinned content hash. */
  readonly fetchLayer = async (layer: LayerRef) =>
    decodeLayerBundle(await this.artifacts.fetch(ArtifactKind.TEMPLATE, layer.name, layer.hash));

  /** `SupervisorDeps.runtimeSource`: the catalog URL when there is one, else chunks from the controller. */
  readonly runtimeSource = (runtime: PlanRuntime): ArtifactSource =>
    runtime.downloadUrl
      ? httpArtifactSource(runtime.downloadUrl)
      : chunkedArtifactSource(() => this.chunks(runtime.sha256));

  /** `SupervisorDeps.onEvent`. */
  readonly onEvent = (event: SupervisorEvent): void => {
    const held = this.deciding.get(event.type === "crash" ? event.report.instanceId : event.instanceId);
    if (held) {
      held.push(event);
      return;
    }
    this.forward(event);
  };

  private forward(event: SupervisorEvent): void {
    if (event.type === "players") {
      // A count change is an instance_update with the instance as it is now.
      const snapshot = this.supervisor().get(event.instanceId);
      if (snapshot?.state === "RUNNING") this.link?.reportInstance(snapshot);
      return;
    }
    if (event.type === "state") {
      const snapshot = this.supervisor().get(event.instanceId);
      this.link?.reportInstance({
        instanceId: event.instanceId,
        group: event.group,
        planHash: event.planHash,
        state: event.to,
        port: event.port,
        uptimeMs: snapshot?.uptimeMs ?? 0,
        // Keeps the node's count on a state report, so the controller does not read it as "emptied".
        ...(event.to === "RUNNING" && snapshot?.playerCount !== undefined
          ? {
              playerCount: snapshot.playerCount,
              ...(snapshot.maxPlayers !== undefined ? { maxPlayers: snapshot.maxPlayers } : {}),
              ...(snapshot.playerSample !== undefined ? { playerSample: snapshot.playerSample } : {}),
              ...(snapshot.playerSampleIds !== undefined
                ? { playerSampleIds: snapshot.playerSampleIds }
                : {}),
            }
          : {}),
        detail: event.detail,
      });
      if (event.to === "STOPPED" || event.to === "CRASHED") this.unsubscribeConsole(event.instanceId);
      return;
    }
    this.link?.reportCrash(crashToWire(event.report));
  }

  async start(command: StartInstance): Promise<StartInstanceAck> {
    if (!command.plan) {
      return StartInstanceAck.create({
        instanceId: command.instanceId,
        accepted: false,
        stage: StartStage.VALIDATION,
        errorCode: "INVALID_PLAN",
        errorMessage: "StartInstance carries no composition plan",
        disposition: FailureDisposition.PERMANENT,
      });
    }
    const outcome = await this.decide(command);
    if (outcome.accepted) {
      return StartInstanceAck.create({
        instanceId: outcome.instanceId,
        planHash: outcome.planHash,
        accepted: true,
        alreadyApplied: outcome.alreadyApplied,
      });
    }
    return StartInstanceAck.create({
      instanceId: outcome.instanceId,
      planHash: outcome.planHash,
      accepted: false,
      stage: StartStage[outcome.stage],
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      disposition: FailureDisposition[outcome.disposition],
      retryAfterSeconds: outcome.retryAfterSeconds,
    });
  }

  /** Runs the start with its events held until the outcome is known; a refusal's events are dropped. */
  private async decide(command: StartInstance) {
    const id = command.instanceId;
    // A duplicate dispatch while the first is deciding must not take over the first one's events.
    const owner = !this.deciding.has(id);
    if (owner) this.deciding.set(id, []);
    let refused = false;
    try {
      const outcome = await this.supervisor().start(toSupervisorStartRequest(command));
      refused = !outcome.accepted && this.supervisor().get(id)?.startRefused === true;
      return outcome;
    } finally {
      if (owner) {
        const held = this.deciding.get(id) ?? [];
        this.deciding.delete(id);
        if (!refused) for (const event of held) this.forward(event);
      }
    }
  }

  /** Acknowledged at once; the stop itself (up to grace + kill timeout) shows as state frames. */
  async stop(command: StopInstance): Promise<StopInstanceAck> {
    const supervisor = this.supervisor();
    if (!supervisor.get(command.instanceId)) {
      return StopInstanceAck.create({
        instanceId: command.instanceId,
        errorMessage: `unknown instance ${command.instanceId}`,
      });
    }
    void supervisor
      .stop(command.instanceId, { force: command.force, reason: command.reason })
      // the supervisor reports the stop's outcome as instance status frames, failures included
      .catch(() => undefined);
    return StopInstanceAck.create({ instanceId: command.instanceId, accepted: true });
  }

  async walkFiles(request: WalkInstanceFiles): Promise<InstanceFileTree> {
    const dir = this.supervisor().instanceDirectory(request.instanceId);
    if (dir === undefined)
      return InstanceFileTree.create({
        requestId: request.requestId,
        status: FileAccessStatus.INSTANCE_NOT_FOUND,
      });
    const tree = await walkInstanceDir(dir, { maxEntries: request.maxEntries, maxDepth: request.maxDepth });
    return InstanceFileTree.create({
      requestId: request.requestId,
      entries: tree.entries.map((e) => ({ ...e, summarized: false, childCount: 0 })),
      truncated: tree.truncated,
      status: tree.status,
    });
  }

  async readFile(request: ReadInstanceFile): Promise<InstanceFileContent> {
    const dir = this.supervisor().instanceDirectory(request.instanceId);
    if (dir === undefined)
      return InstanceFileContent.create({
        requestId: request.requestId,
        status: FileAccessStatus.INSTANCE_NOT_FOUND,
      });
    const file = await readInstanceFile(dir, request.path, {
      maxBytes: request.maxBytes,
      tail: request.tail,
    });
    return InstanceFileContent.create({ requestId: request.requestId, ...file });
  }

  async applyProxyRoutes(routes: ProxyRoutes): Promise<ProxyRoutesAck> {
    const outcome = await this.supervisor().applyProxyRoutes(routes.instanceId, {
      servers: routes.servers.map((s) => ({ name: s.name, address: s.address })),
      try: [...routes.try],
      forcedHosts: routes.forcedHosts.map((h) => ({ host: h.host, servers: [...h.servers] })),
    });
    return ProxyRoutesAck.create({
      instanceId: routes.instanceId,
      revision: routes.revision,
      ok: outcome.ok,
      changed: outcome.changed,
      error: outcome.error ?? "",
    });
  }

  sendCommand(command: SendCommand): void {
    try {
      this.supervisor().sendCommand(command.instanceId, command.command);
    } catch {
      // unknown or ended instance: nothing to write to
    }
  }

  subscribeConsole(instanceId: string, backlogLines: number): void {
    if (this.consoles.has(instanceId) || !this.supervisor().get(instanceId)) return;
    const stop = this.supervisor().subscribeConsole(
      instanceId,
      (line) => this.link?.reportConsoleLine(instanceId, line.line, line.timestampMs),
      { backlog: backlogLines },
    );
    this.consoles.set(instanceId, stop);
  }

  unsubscribeConsole(instanceId: string): void {
    this.consoles.get(instanceId)?.();
    this.consoles.delete(instanceId);
  }

  private async *chunks(sha256: string): AsyncIterable<Uint8Array> {
    yield await this.artifacts.fetch(ArtifactKind.RUNTIME, sha256);
  }
}

function toSupervisorStartRequest(command: StartInstance): SupervisorStartRequest {
  const plan = planFromWire(command.plan!);
  return {
    plan,
    ...(command.pluginToken ? { pluginToken: command.pluginToken } : {}),
    ...(command.forwardingSecret ? { forwardingSecret: command.forwardingSecret } : {}),
    launch: command.launchArgv.length > 0 ? { kind: "custom", argv: command.launchArgv } : { kind: "jvm" },
    ...readinessOf(command.readiness),
    startupTimeoutSeconds: command.startupTimeoutSeconds,
    shutdownGraceSeconds: command.shutdownGraceSeconds,
    maxLifetimeSeconds: command.maxLifetimeSeconds,
    ...(command.maxPlayers > 0 ? { maxPlayers: command.maxPlayers } : {}),
    resolvedVariables: command.resolvedVariables,
  };
}

/** AUTO and PLUGIN keep the daemon default (console line or ping); the controller decides PLUGIN. */
function readinessOf(mode: string): { readiness?: ReadinessSpec } {
  if (mode === "CONSOLE") return { readiness: { ping: false } };
  if (mode === "PING") return { readiness: { console: false } };
  return {};
}

function crashToWire(report: SupervisorCrash): CrashReport {
  return CrashReport.create({
    instanceId: report.instanceId,
    group: report.group,
    exitCode: report.exitCode ?? 0,
    signal: report.signal ?? "",
    logTail: [...report.logTail],
    uptimeMs: report.uptimeMs,
    planHash: report.planHash,
  });
}
