import { join, resolve } from "node:path";
import type { ControllerConfig } from "../config/controller-config.ts";
import type { Coordination } from "../coord/port.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { DurableStore } from "../store/port.ts";
import { type BootstrapResult, ensureBootstrapAdmin } from "./auth/bootstrap-admin.ts";
import { parseSchedule, startBackupSchedule } from "./backup/backup-schedule.ts";
import type { BackupService } from "./backup/backup-service.ts";
import { gatedStore, WriteHold } from "./backup/write-hold.ts";
import { wireAuth } from "./boot/auth-wiring.ts";
import { openClusterState } from "./boot/cluster-state.ts";
import { wireDesiredState } from "./boot/desired-state-wiring.ts";
import { wireEvents } from "./boot/event-wiring.ts";
import { tightenOwnedDirs } from "./boot/install-root.ts";
import { registerMetricSamples } from "./boot/metric-samples.ts";
import { addDaemonListener, wireNodeLink, wireNodeLiveness } from "./boot/node-link-wiring.ts";
import { addSchedulerLoop, wireScheduling } from "./boot/scheduling-wiring.ts";
import { StartSequence } from "./boot/start-sequence.ts";
import { resolveControllerId } from "./controller-id.ts";
import type { EventBus } from "./events/event-bus.ts";
import type { SessionRegistry } from "./grpc/session-registry.ts";
import { createHttpApp, serverBodyLimit } from "./http/app.ts";
import { type EarlyListener, listenEarly } from "./http/early-listener.ts";
import type { RouteTable } from "./http/route-table.ts";
import { buildRouteTable } from "./http/route-wiring.ts";
import { earlyBodyLimit } from "./http/upload-caps.ts";
import { type InstanceWiring, wireInstances } from "./instances/wiring.ts";
import { instrumentCoordination } from "./metrics/coordination-metrics.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { ProxyRouteSync } from "./networks/proxy-route-sync.ts";
import type { CertRevocations } from "./nodes/cert-revocations.ts";
import type { JoinTokenService } from "./nodes/join-tokens.ts";
import type { LivenessSweeper } from "./nodes/liveness-sweeper.ts";
import type { NodeService } from "./nodes/node-service.ts";
import { openCoordination, openStore } from "./open-state.ts";
import type { ClusterPki } from "./pki/cluster-pki-store.ts";
import { PlayerJourney } from "./players/player-journey.ts";
import type { SchedulerLoop } from "./scheduler/loop/index.ts";
import { type WorkloadServices, wireWorkloadServices } from "./workload/wiring.ts";

export interface ControllerOptions {
  /** install root: config/, data/ and friends live below it */
  root: string;
  config: ControllerConfig;
  log: Logger;
  /** time and timers for everything wired here (the system clock unless a test passes its own) */
  clock?: Clock;
  /** the REST port already bound by the role (see roles/rest-early.ts); bound here when absent */
  listener?: EarlyListener;
  /** readiness stays DOWN naming this until markReady() (`prexor up`: its local daemon) */
  holdReadiness?: string;
}

export interface RunningController {
  id: string;
  httpPort: number;
  store: DurableStore;
  coord: Coordination;
  bootstrap: BootstrapResult;
  routes: RouteTable;
  events: EventBus;
  metrics: Metrics;
  /** the daemon listener's bound port */
  grpcPort: number;
  pki: ClusterPki;
  nodes: NodeService;
  joinTokens: JoinTokenService;
  /** live daemon sessions on this controller: send commands, hear daemon frames */
  sessions: SessionRegistry;
  revocations: CertRevocations;
  /** node liveness and the lost-instance grace periods */
  sweeper: LivenessSweeper;
  scheduler: SchedulerLoop;
  instances: InstanceWiring;
  workload: WorkloadServices;
  backups: BackupService;
  /** lifts holdReadiness: readiness reports the dependencies alone from now on */
  markReady(): void;
  stop(): Promise<void>;
}

export function initialPasswordFile(root: string): string {
  return join(resolve(root), "config", ".initial-admin-password");
}

/**
 * Hand wiring in three phases. Open: the REST port first (liveness answers at once, readiness and
 * the API are 503 until the end), then the store, coordination and the cluster state the services
 * are built with (boot/cluster-state.ts). Construct: the wirings under boot/ in dependency order,
 * each taking the few services it needs and registering what listens, ticks or subscribes on the
 * StartSequence without running it. Start: the sequence in order (event system … gRPC, route sync,
 * scheduler), then the bootstrap admin, then the full REST surface takes the port. stop() undoes
 * what started in reverse. A store or coordination that cannot be reached fails start-up with its
 * error (the process exits and its supervisor restarts it); while it is tried, readiness names it.
 */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  const { root, config, log } = options;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  // Started steps stop in reverse; the listener is known only once bound, so phases go through it.
  let onPhase: (phase: string) => Promise<void> = async () => {};
  const sequence = new StartSequence(log, (phase) => onPhase(phase));
  const stop = () => sequence.stop();
  try {
    tightenOwnedDirs(root, config.runtime.dataDir, log);
    const backupSchedule = parseSchedule(config.backup.schedule);
    const id = resolveControllerId(config.uuid, join(resolve(root, config.runtime.dataDir), "controller-id"));
    const startedAt = clock.now();
    // REST first: liveness answers while the rest starts; every other route is a 503 until then.
    const listener =
      options.listener ??
      listenEarly({
        host: config.http.host,
        port: config.http.port,
        maxRequestBodySize: earlyBodyLimit(config.http.maxBodyBytes),
        controllerId: id,
        profile: config.runtime.profile,
        startedAt,
        now,
      });
    sequence.opened("REST listener", () => listener.stop());
    onPhase = (phase) => listener.starting(phase);
    const httpPort = listener.port;
    const rawStore = await openStore(root, config);
    // Every service writes through the gate, so a backup can take a cut and a restore can fence writes off.
    const writeGate = new WriteHold();
    const store = gatedStore(rawStore, writeGate);
    sequence.opened("durable store", () => store.close());
    log.info({ store: store.kind, location: store.location }, "durable store open");

    const metrics = createMetrics({ enabled: config.metrics.enabled, now });
    const coord = instrumentCoordination(await openCoordination(config), metrics);
    sequence.opened("coordination", () => coord.close());
    log.info({ coordination: coord.kind, location: coord.location }, "coordination store connected");

    const { jwtSecret, pki, forwardingSecret, backups } = await openClusterState({
      root,
      config,
      controllerId: id,
      rawStore,
      store,
      writeGate,
      coord,
      metrics,
      log,
      clock,
      phase: (name) => listener.starting(name),
      sequence,
    });

    // Construction from here on: each wiring builds its services and registers what listens, ticks
    // or subscribes on the sequence; nothing runs until sequence.start() below.
    const base = { store, coord, controllerId: id, log, clock };
    const auth = wireAuth(
      base,
      {
        jwtSecret,
        security: config.security,
        auditRetentionDays: config.scheduler.auditRetentionDays,
        unlockInbox: { root, dataDir: config.runtime.dataDir },
        initialPasswordFile: initialPasswordFile(root),
      },
      sequence,
    );
    const eventSystem = wireEvents(base, { metrics, sse: config.sse }, sequence);
    const events = eventSystem.bus;
    const lease = { coord, store, holder: id, clock };
    const desired = wireDesiredState(base, { root, events, lease, config }, sequence);
    const link = wireNodeLink(base, { caFingerprint: pki.ca.fingerprint }, sequence);
    const journey = new PlayerJourney({ store, events, log: log.child({ component: "players" }), now });
    const instances = wireInstances({
      store,
      events,
      log,
      groups: desired.groups,
      catalog: desired.catalogResolver,
      templates: desired.templates,
      templateFiles: desired.templateFiles,
      artifactDir: desired.artifactDir,
      sessions: link.sessions,
      nodes: link.nodes,
      lease,
      crashLoop: config.crashes,
      acceptEula: config.minecraft.acceptEula,
      networks: desired.networks,
      forwardingSecret: async () => forwardingSecret,
      heartbeatIntervalMs: config.heartbeat.intervalMs,
      metrics,
      journey,
      controllerUrl: () => controllerUrlOf(config.http.host, httpPort),
      clock,
    });
    sequence.add("instances", () => instances.start());
    const workload = wireWorkloadServices({
      coord,
      store,
      instances: instances.instances,
      groups: desired.groups,
      events,
      journey,
      log,
      now,
    });
    sequence.add("workload", () => workload.start());
    const { reconciler } = instances;
    const liveness = wireNodeLiveness(base, { link, reconciler, heartbeat: config.heartbeat }, sequence);
    const scheduling = wireScheduling(
      base,
      {
        lease,
        events,
        metrics,
        audit: auth.audit,
        desired,
        instances,
        link,
        liveness,
        instanceMetrics: workload.instanceMetrics,
        config: config.scheduler,
      },
      sequence,
    );
    sequence.add("backup schedule", () =>
      startBackupSchedule({
        schedule: backupSchedule,
        scope: config.backup.scope,
        coord,
        holder: id,
        log,
        run: (scope) => backups.create(scope),
      }),
    );
    let holding = options.holdReadiness ?? null;
    const routes = buildRouteTable({
      restoreReason: () => writeGate.restoreReason,
      startupReason: () => holding,
      config,
      store,
      coord,
      controllerId: id,
      startedAt,
      clock,
      auth,
      desired,
      link,
      liveness,
      scheduling,
      caFingerprint: pki.ca.fingerprint,
      events: eventSystem,
      metrics,
      instances,
      workload,
      backups,
      // SSE streams outlive Bun's idle timeout; their keep-alives tell a dead peer apart.
      keepOpen: (request) => listener.server.timeout(request, 0),
    });
    registerMetricSamples(metrics, {
      store,
      groups: desired.groups,
      sessions: link.sessions,
      nodes: link.nodes,
      instances,
      workload,
    });
    const app = createHttpApp({
      config,
      coord,
      log,
      tokens: auth.tokens,
      users: auth.users,
      roles: auth.roles,
      audit: auth.audit,
      routes,
      metrics,
      restoreReason: () => writeGate.restoreReason,
    });
    // Bun's own limit answers 413 without our envelope, so it sits above every route's cap; the
    // port was bound before the routes existed, with the caps known then.
    if (serverBodyLimit(routes, config) > listener.maxRequestBodySize) {
      throw new Error("a route's body cap exceeds the early listener's limit (see upload-caps.ts)");
    }
    // Stops before the listener and the bus (stops run in reverse): open streams would keep them waiting.
    sequence.add("SSE streams", () => () => eventSystem.closeStreams());
    // Proxies without a plugin: their velocity.toml / config.yml follow the RUNNING backends.
    const routeSync = new ProxyRouteSync({
      nodes: link.nodes,
      instances: instances.instances,
      networks: desired.networks,
      groups: desired.groups,
      sessions: link.sessions,
      events,
      routing: workload.routing,
      log: log.child({ component: "proxy-routes" }),
      intervalMs: config.scheduler.evaluationIntervalSeconds * 1000,
      clock,
    });
    const grpc = addDaemonListener(
      base,
      {
        config,
        pki,
        link,
        liveness,
        reconciler,
        audit: auth.audit,
        httpPort,
        events,
        metrics,
      },
      sequence,
    );
    sequence.add("proxy route sync", () => {
      routeSync.start();
      return () => routeSync.stop();
    });
    // Once daemons can connect, so their reports open the convergence gate; stopped first on shutdown.
    addSchedulerLoop(scheduling.scheduler, sequence);

    // Start phase: everything registered above, in that order.
    await sequence.start();
    // After listening: the Argon2id hash costs ~0.2 s and liveness should not wait for it.
    await listener.starting("bootstrap admin");
    const bootstrap = await ensureBootstrapAdmin(
      store,
      initialPasswordFile(root),
      config.security.initialAdminPassword,
      log,
      clock,
    );
    // The whole surface from here; the framework answers on the port bound first.
    (app as { server: unknown }).server = listener.server;
    listener.serve((request) => app.fetch(request));
    log.info(
      { host: config.http.host, port: httpPort, controllerId: id, profile: config.runtime.profile },
      "controller REST listening",
    );
    return {
      id,
      httpPort,
      store,
      coord,
      bootstrap,
      routes,
      events,
      metrics,
      grpcPort: grpc.port(),
      pki,
      nodes: link.nodes,
      joinTokens: link.joinTokens,
      sessions: link.sessions,
      revocations: link.revocations,
      sweeper: liveness.sweeper,
      scheduler: scheduling.scheduler,
      instances,
      workload,
      backups,
      markReady: () => {
        holding = null;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The REST base URL workloads get as CLOUD_CONTROLLER_URL; a wildcard bind is reached on loopback. */
function controllerUrlOf(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
