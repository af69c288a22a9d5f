import { join, resolve } from "node:path";
import type { ControllerConfig } from "../config/controller-config.ts";
import type { Coordination } from "../coord/port.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { tightenTree } from "../core/fs/private-modes.ts";
import type { Logger } from "../log/logger.ts";
import type { DurableStore } from "../store/port.ts";
import { AuditLog } from "./audit/audit-log.ts";
import { startAuditPruner } from "./audit/audit-pruner.ts";
import { type BootstrapResult, ensureBootstrapAdmin } from "./auth/bootstrap-admin.ts";
import { LoginLockout } from "./auth/login-lockout.ts";
import { RoleService } from "./auth/role-service.ts";
import { resolveJwtSecret, TokenService } from "./auth/token-service.ts";
import { startUnlockInbox, unlockInbox } from "./auth/unlock-inbox.ts";
import { UserService } from "./auth/user-service.ts";
import { parseSchedule, startBackupSchedule } from "./backup/backup-schedule.ts";
import { BackupService } from "./backup/backup-service.ts";
import { ClusterWriteHold } from "./backup/cluster-hold.ts";
import { finishInterruptedRestore } from "./backup/interrupted-restore.ts";
import { unfinishedRestore } from "./backup/restore-runner.ts";
import { gatedStore, WriteHold } from "./backup/write-hold.ts";
import { StartSequence } from "./boot/start-sequence.ts";
import { CatalogResolver } from "./catalog/catalog-resolver.ts";
import { CatalogService } from "./catalog/catalog-service.ts";
import { resolveControllerId } from "./controller-id.ts";
import { DependencyWatch } from "./dependency-watch.ts";
import { startDeploymentReconciler } from "./deployments/deployment-reconciler.ts";
import { DeploymentService } from "./deployments/deployment-service.ts";
import type { EventBus } from "./events/event-bus.ts";
import { createEventSystem } from "./events/event-system.ts";
import type { EventPublisher } from "./events/event-types.ts";
import { GroupService } from "./groups/group-service.ts";
import { startCommandRelay } from "./grpc/command-relay.ts";
import { startGrpcServer } from "./grpc/grpc-server.ts";
import { startNodeHandover } from "./grpc/node-handover.ts";
import { SessionRegistry } from "./grpc/session-registry.ts";
import { createHttpApp, serverBodyLimit } from "./http/app.ts";
import { type EarlyListener, listenEarly } from "./http/early-listener.ts";
import type { RouteTable } from "./http/route-table.ts";
import { buildRouteTable } from "./http/route-wiring.ts";
import { earlyBodyLimit } from "./http/upload-caps.ts";
import { InstanceFiles } from "./instances/instance-files.ts";
import { type InstanceWiring, wireInstances } from "./instances/wiring.ts";
import { MaintenanceService } from "./maintenance-service.ts";
import { instrumentCoordination } from "./metrics/coordination-metrics.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { resolveForwardingSecret } from "./networks/forwarding-secret.ts";
import { NetworkService } from "./networks/network-service.ts";
import { ProxyRouteSync } from "./networks/proxy-route-sync.ts";
import { CertRevocations } from "./nodes/cert-revocations.ts";
import { JoinTokenService } from "./nodes/join-tokens.ts";
import { LivenessSweeper } from "./nodes/liveness-sweeper.ts";
import { NodeService } from "./nodes/node-service.ts";
import { NodeShutdowns } from "./nodes/node-shutdowns.ts";
import { openCoordination, openStore } from "./open-state.ts";
import { type ClusterPki, loadOrCreateClusterCa } from "./pki/cluster-pki-store.ts";
import { resolveClusterSecret } from "./pki/cluster-secret.ts";
import { PlayerJourney } from "./players/player-journey.ts";
import { countOpenDrains, SchedulerLoop } from "./scheduler/loop/index.ts";
import { TemplateFiles } from "./templates/template-files.ts";
import { TemplateService } from "./templates/template-service.ts";
import { type WorkloadServices, wireWorkloadServices } from "./workload/wiring.ts";

export interface ControllerOptions {
  /** install root: config/, data/ and friends live below it */
  root: string;
  config: ControllerConfig;
  log: Logger;
  /** time and timers for everything wired here (the system clock unless a test passes its own) */
  clock?: Clock;
  /** the REST port already bound by the role (see bindRestEarly); bound here when absent */
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
 * the API are 503 until the end), then the store, coordination, the cluster write hold, an
 * interrupted restore and the secrets and CA the services are built with. Construct: every service
 * in dependency order, registering what listens, ticks or subscribes on a StartSequence without
 * running it. Start: the sequence in order (event system … gRPC, route sync, scheduler), then the
 * bootstrap admin, then the full REST surface takes the port. stop() undoes what started in reverse. A store or coordination that
 * cannot be reached fails start-up with its error (the process exits and its supervisor restarts
 * it), as it did when the port was bound later; while it is tried, readiness names it.
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
    // The directories the product owns under the root, not the root itself: `--dir` may be a
    // directory the operator shares with other things.
    const owned = [
      "config",
      config.runtime.dataDir,
      "templates",
      "artifacts",
      "modules",
      "daemon",
      "backups",
      "logs",
    ];
    const modes = tightenTree([...new Set(owned.map((d) => resolve(root, d)))]);
    if (modes.tightened.length > 0 || modes.truncated) {
      log.warn(
        { count: modes.tightened.length, sample: modes.tightened.slice(0, 5), truncated: modes.truncated },
        "removed group/other permissions from files under the install root (state and secrets are owner-only)",
      );
    }
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

    // `prexor admin unlock` requests left on this host (see unlock-inbox.ts)
    const lockout = new LoginLockout(coord, config.security.lockout);
    sequence.add("unlock inbox", () =>
      startUnlockInbox(unlockInbox(root, config.runtime.dataDir), lockout, log),
    );

    await listener.starting("secrets");
    const clusterSecret = resolveClusterSecret(config, root);
    const jwtSecret = await resolveJwtSecret(config.security.jwtSecret, store, clusterSecret, log, clock);
    // The backup hold spans the cluster: this controller joins before any service of it writes.
    const clusterHold = new ClusterWriteHold({
      coord,
      local: writeGate,
      self: id,
      cluster: rawStore.location,
      unfinishedRestore: () => unfinishedRestore(rawStore),
      log,
      clock,
    });
    // Joined now, not in the start phase: the secrets and the restore below already write.
    await clusterHold.start();
    sequence.opened("cluster write hold", () => clusterHold.stop());
    const backups = new BackupService({
      store: rawStore,
      coord,
      root,
      backupDir: resolve(root, config.backup.directory),
      retentionCount: config.backup.retentionCount,
      holder: id,
      gate: clusterHold,
      metrics,
    });
    await finishInterruptedRestore(backups, writeGate, log);
    const tokens = new TokenService(
      jwtSecret,
      config.security.jwtPreviousSecrets,
      config.security.jwtExpirationMinutes * 60,
      coord,
      now,
    );
    const roles = new RoleService(store, clock);
    const users = new UserService(store, roles, initialPasswordFile(root), clock);
    const audit = new AuditLog(store, now);
    sequence.add("audit pruner", () =>
      startAuditPruner({
        audit,
        coord,
        controllerId: id,
        retentionDays: config.scheduler.auditRetentionDays,
        log,
      }),
    );

    // Construction from here on: services are built in dependency order; what listens, ticks or
    // subscribes is registered on the sequence and started after the last of them is built.
    const eventSystem = createEventSystem({ coord, controllerId: id, log, metrics, sse: config.sse });
    sequence.add(
      "event system",
      async () => {
        await eventSystem.start();
        return () => eventSystem.stop();
      },
      "event system",
    );
    const events: EventPublisher = eventSystem.bus;
    const dependencies = new DependencyWatch({
      probes: [
        { name: "store", ping: () => store.ping() },
        { name: "coordination", ping: () => coord.ping() },
      ],
      events,
      log,
      clock,
      controllerId: id,
      gauge: (dependency, up) => metrics.dependency(dependency, up),
    });
    sequence.add("dependency watch", () => {
      dependencies.start();
      return () => dependencies.stop();
    });
    const lease = { coord, store, holder: id, clock };
    const groups = new GroupService(store, events, lease, clock);
    const networks = new NetworkService(store, events, lease, clock);
    sequence.add("network seed", async () => {
      const seeded = await networks.seed(config.networks);
      if (seeded > 0) log.info({ seeded }, "seeded network compositions from controller.yml");
      return undefined;
    });
    const maintenance = new MaintenanceService(store, config.maintenance, events, lease, clock);
    const templateFiles = new TemplateFiles(resolve(root, "templates"));
    const templates = new TemplateService(store, templateFiles, events, lease, undefined, clock);
    const catalog = new CatalogService(store, resolve(root, "artifacts"), lease, clock);
    const catalogResolver = new CatalogResolver(
      catalog,
      config.catalog.downloads,
      log.child({ component: "catalog" }),
    );
    // The cluster CA is shared through the store, sealed under the cluster secret; so is the one
    // modern-forwarding secret per cluster (in cluster_meta, like the JWT secret). Each costs a scrypt
    // derivation, which runs off the main thread: opened together rather than one after the other.
    await listener.starting("cluster CA");
    const [pki, forwardingSecret] = await Promise.all([
      loadOrCreateClusterCa(store, clusterSecret, { clusterId: config.cluster.id, clock, log }),
      resolveForwardingSecret(store, clusterSecret, { clock }),
    ]);
    const revocations = new CertRevocations({ store, coord, log });
    sequence.add("certificate revocations", async () => {
      await revocations.start();
      return () => revocations.stop();
    });
    const nodes = new NodeService(store, now);
    const joinTokens = new JoinTokenService(store, pki.ca.fingerprint, {
      isEnrolled: async (nodeId) => {
        const node = await nodes.get(nodeId);
        return node !== null && !node.certRevoked && (node.connected || node.certNotAfter > clock.now());
      },
    });
    const sessions = new SessionRegistry();
    sequence.add("revoked streams closing", () => {
      const off = revocations.onChange((change) => sessions.closeRevoked(change));
      return () => void off();
    });
    sequence.add("command relay", () => startCommandRelay({ coord, sessions, controllerId: id, log }));
    sequence.add("node handover", () => startNodeHandover({ coord, sessions, controllerId: id, log }));
    const instanceFiles = new InstanceFiles({ sessions, coord, clock });
    sequence.add("instance files", async () => {
      await instanceFiles.start();
      return () => instanceFiles.stop();
    });
    const journey = new PlayerJourney({ store, events, log: log.child({ component: "players" }), now });
    const instances = wireInstances({
      store,
      events,
      log,
      groups,
      catalog: catalogResolver,
      templates,
      templateFiles,
      artifactDir: resolve(root, "artifacts"),
      sessions,
      nodes,
      lease,
      crashLoop: config.crashes,
      acceptEula: config.minecraft.acceptEula,
      networks,
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
      groups,
      events,
      journey,
      log,
      now,
    });
    sequence.add("workload", () => workload.start());
    const reconciler = instances.reconciler;
    const sweeper = new LivenessSweeper({
      nodes,
      reconciler,
      coord,
      controllerId: id,
      log,
      settings: {
        heartbeatIntervalMs: config.heartbeat.intervalMs,
        missedThreshold: config.heartbeat.missedThreshold,
        instanceLostGraceMs: config.heartbeat.instanceLostGraceMs,
      },
    });
    sequence.add("liveness sweeper", () => {
      sweeper.start();
      return () => sweeper.stop();
    });

    // ShutdownNode goes out on this controller's session to the node, or waits for the one holding it.
    const shutdowns = new NodeShutdowns({ nodes, sessions, log });
    const deployments = new DeploymentService({
      store,
      groups,
      templates,
      events,
      lease,
      evaluationIntervalSeconds: config.scheduler.evaluationIntervalSeconds,
      metrics,
      clock,
      // the loop is built next; a nudge only comes once the service is in use, after start-up
      nudge: () => scheduler.nudge(),
    });
    const scheduler = new SchedulerLoop({
      deployments: {
        autoRollback: (failed) => deployments.autoRollback(failed),
        audit: (entry) =>
          audit.record({
            actor: "system",
            action: entry.action,
            resourceType: "deployment",
            resourceId: entry.resourceId,
            details: entry.details,
            ip: "",
            requestId: "",
          }),
      },
      store,
      instanceRecords: instances.instances,
      coord,
      controllerId: id,
      maintenance,
      events,
      metrics,
      log: log.child({ component: "scheduler" }),
      lifecycle: instances.lifecycle,
      nodes,
      shutdowns,
      instanceMetrics: workload.instanceMetrics,
      intervalMs: config.scheduler.evaluationIntervalSeconds * 1000,
      scalingCooldownSeconds: config.scheduler.scalingCooldownSeconds,
      cpuHardLimit: config.scheduler.cpuHardLimit,
    });
    sequence.add("rollout nudges", () => {
      const nudges = eventSystem.bus.on("INSTANCE_STATE_CHANGED", (event) =>
        scheduler.instanceChanged(event.payload.group, event.payload.newState),
      );
      return () => nudges.unsubscribe();
    });
    sequence.add("deployment reconciler", () =>
      startDeploymentReconciler({
        store,
        coord,
        controllerId: id,
        log: log.child({ component: "deployments" }),
        clock,
        intervalMs: Math.max(5_000, config.scheduler.evaluationIntervalSeconds * 2000),
        abandon: (doc, reason) => deployments.abandon(doc, reason),
        nudge: () => scheduler.nudge(),
      }),
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
      tokens,
      users,
      roles,
      audit,
      groups,
      deployments,
      instanceFiles,
      networks,
      maintenance,
      templates,
      catalog,
      catalogResolver,
      events: eventSystem,
      metrics,
      nodes,
      revocations,
      shutdowns,
      joinTokens,
      caFingerprint: pki.ca.fingerprint,
      scheduler,
      instances,
      workload,
      backups,
      // SSE streams outlive Bun's idle timeout; their keep-alives tell a dead peer apart.
      keepOpen: (request) => listener.server.timeout(request, 0),
    });
    metrics.sample("groups", async () => (await groups.list(1, 1)).total);
    metrics.sample("daemonSessions", () => sessions.size);
    metrics.sample("nodes", () => nodes.countConnected());
    metrics.sample("instances", () => instances.instances.count({ state: "RUNNING" }));
    metrics.sample("crashes", () => instances.crashes.count());
    metrics.sample("players", () => workload.players.registry.count());
    metrics.sample("pendingTransfers", () => workload.intents.count());
    metrics.sample("startRetries", () => instances.lifecycle.retries.count());
    metrics.sample("nodeDrains", () => countOpenDrains(store));
    const app = createHttpApp({
      config,
      coord,
      log,
      tokens,
      users,
      roles,
      audit,
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
      nodes,
      instances: instances.instances,
      networks,
      groups,
      sessions,
      events: eventSystem.bus,
      routing: workload.routing,
      log: log.child({ component: "proxy-routes" }),
      intervalMs: config.scheduler.evaluationIntervalSeconds * 1000,
      clock,
    });
    let grpcPort = 0;
    const grpcDeps = {
      config,
      log,
      coord,
      controllerId: id,
      pki,
      nodes,
      joinTokens,
      revocations,
      reconciler,
      sweeper,
      registry: sessions,
      audit,
      httpPort,
      events,
      metrics,
    };
    sequence.add(
      "gRPC",
      async () => {
        const grpc = await startGrpcServer(grpcDeps);
        grpcPort = grpc.port;
        log.info(
          { host: config.grpc.host, port: grpc.port, caFingerprint: pki.ca.fingerprint },
          "controller gRPC (daemon link, mTLS) listening",
        );
        return () => grpc.stop();
      },
      "gRPC",
    );
    sequence.add("proxy route sync", () => {
      routeSync.start();
      return () => routeSync.stop();
    });
    // Once daemons can connect, so their reports open the convergence gate; stopped first on shutdown.
    sequence.add("scheduler loop", () => {
      scheduler.start();
      return () => scheduler.stop();
    });

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
      events: eventSystem.bus,
      metrics,
      grpcPort,
      pki,
      nodes,
      joinTokens,
      sessions,
      revocations,
      sweeper,
      scheduler,
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
