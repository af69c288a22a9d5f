import { createServer } from "nice-grpc";
import type { ControllerConfig } from "../../config/controller-config.ts";
import type { Coordination } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import { BootstrapServiceDefinition, BootstrapServiceFullName, MAX_MESSAGE_BYTES } from "../../wire/index.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CertRevocations } from "../nodes/cert-revocations.ts";
import type { InstanceReconciler } from "../nodes/instance-reconciler.ts";
import type { JoinTokenService } from "../nodes/join-tokens.ts";
import type { LivenessSweeper } from "../nodes/liveness-sweeper.ts";
import type { NodeService } from "../nodes/node-service.ts";
import { type ClusterPki, issueControllerCertificate } from "../pki/cluster-pki-store.ts";
import { ControllerServerCredentials, createPeerIdentityInterceptor, needsRenewal } from "../pki/index.ts";
import { bootstrapService } from "./bootstrap-service.ts";
import { announceController, cachedControllerAddrs, liveControllerAddrs } from "./controller-directory.ts";
import { ServedDaemonServiceDefinition } from "./daemon-frames.ts";
import { daemonService } from "./daemon-service.ts";
import type { SessionRegistry } from "./session-registry.ts";
import { logRefusal, subnetGuard } from "./transport-guard.ts";

export interface GrpcServerDeps {
  config: ControllerConfig;
  log: Logger;
  coord: Coordination;
  controllerId: string;
  pki: ClusterPki;
  nodes: NodeService;
  joinTokens: JoinTokenService;
  revocations: CertRevocations;
  reconciler: InstanceReconciler;
  sweeper: LivenessSweeper;
  registry: SessionRegistry;
  audit: AuditLog;
  /** the REST port actually bound, for HelloAck.controller_api_url */
  httpPort: number;
  events?: EventPublisher;
  metrics?: Metrics;
}

export interface RunningGrpc {
  port: number;
  stop(): Promise<void>;
}

/** The default allow-list admits everyone; then the per-call subnet check is skipped entirely. */
function allowsEveryAddress(subnets: string[]): boolean {
  return subnets.includes("0.0.0.0/0") && subnets.includes("::/0");
}

/** Renew the in-memory server certificate this long before it expires (checked daily). */
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * The daemon listener: TLS always, client certificates verified against the cluster CA when
 * presented and required for everything but BootstrapService (an enrolling daemon has none yet).
 * Interceptors run subnet guard, then identity (certificate present, verified, not revoked), each
 * refusal logged with its reason.
 */
export async function startGrpcServer(deps: GrpcServerDeps): Promise<RunningGrpc> {
  const { config, log, pki } = deps;
  const grpcLog = log.child({ component: "grpc" });
  const material = async () => {
    const issued = await issueControllerCertificate(pki.ca, config.grpc);
    return {
      caCertificatePem: pki.ca.certificatePem,
      certificatePem: issued.certificatePem,
      privateKeyPem: issued.privateKeyPem,
    };
  };
  let current = await material();
  const credentials = new ControllerServerCredentials(current, { requireClientCertificate: false });

  const server = createServer({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    interceptors: [
      ...(allowsEveryAddress(config.network.allowedSubnets)
        ? []
        : [subnetGuard(config.network.allowedSubnets, grpcLog)]),
      createPeerIdentityInterceptor({
        exemptServices: [BootstrapServiceFullName],
        isRevoked: (identity) => deps.revocations.isRevokedCached(identity),
        onRefused: logRefusal(grpcLog),
      }),
    ],
  });

  const advertised = config.grpc.advertiseHosts;
  const wildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "";
  const apiHost = advertised[0] ?? (wildcard(config.http.host) ? "" : config.http.host);
  const bracket = (host: string) => (host.includes(":") ? `[${host}]` : host);
  server.add(
    BootstrapServiceDefinition,
    bootstrapService({
      ca: pki.ca,
      clusterId: pki.clusterId,
      joinTokens: deps.joinTokens,
      nodes: deps.nodes,
      revocations: deps.revocations,
      audit: deps.audit,
      coord: deps.coord,
      log: grpcLog,
      controllerGrpcAddrs: [],
      controllerDirectory: () => liveControllerAddrs(deps.coord),
    }),
  );
  const grpcAddrs: string[] = [];
  server.add(
    ServedDaemonServiceDefinition,
    daemonService({
      controllerId: deps.controllerId,
      coord: deps.coord,
      nodes: deps.nodes,
      reconciler: deps.reconciler,
      revocations: deps.revocations,
      registry: deps.registry,
      sweeper: deps.sweeper,
      log: grpcLog,
      heartbeatIntervalMs: config.heartbeat.intervalMs,
      missedThreshold: config.heartbeat.missedThreshold,
      sessionLeaseMs: config.heartbeat.sessionLeaseMs,
      controllerDirectory: cachedControllerAddrs(deps.coord),
      controllerApiUrl: apiHost === "" ? "" : `http://${bracket(apiHost)}:${deps.httpPort}`,
      controllerGrpcAddrs: grpcAddrs,
      events: deps.events,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    }),
  );

  const boundPort = await server.listen(`${bracket(config.grpc.host)}:${config.grpc.port}`, credentials);
  // Filled after listen because port 0 picks one; sessions read the same array. A controller bound
  // to one address (not a wildcard) is reachable there unless told otherwise.
  const advertise = advertised.length > 0 ? advertised : wildcard(config.grpc.host) ? [] : [config.grpc.host];
  grpcAddrs.push(...advertise.map((host) => `${bracket(host)}:${boundPort}`));
  const directory = await announceController(deps.coord, deps.controllerId, grpcAddrs, grpcLog);

  const renewal = setInterval(async () => {
    try {
      if (!needsRenewal(current.certificatePem, new Date(), RENEW_BEFORE_DAYS)) return;
      current = await material();
      credentials.update(current);
      grpcLog.info("controller TLS certificate renewed");
    } catch (err) {
      grpcLog.warn({ err }, "controller TLS certificate renewal failed");
    }
  }, DAY_MS);
  renewal.unref?.();

  return {
    port: boundPort,
    stop: async () => {
      clearInterval(renewal);
      await directory.stop();
      deps.registry.closeAll("controller shutting down");
      // Let sessions record their disconnect, but never let a hung peer hold up shutdown.
      const graceful = server.shutdown();
      const timeout = new Promise<"timeout">((resolve) =>
        setTimeout(() => resolve("timeout"), 3000).unref?.(),
      );
      if ((await Promise.race([graceful, timeout])) === "timeout") server.forceShutdown();
    },
  };
}
