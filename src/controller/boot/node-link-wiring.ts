import type { ControllerConfig } from "../../config/controller-config.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { startCommandRelay } from "../grpc/command-relay.ts";
import { startGrpcServer } from "../grpc/grpc-server.ts";
import { startNodeHandover } from "../grpc/node-handover.ts";
import { SessionRegistry } from "../grpc/session-registry.ts";
import { InstanceFiles } from "../instances/instance-files.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { CertRevocations } from "../nodes/cert-revocations.ts";
import type { InstanceReconciler } from "../nodes/instance-reconciler.ts";
import { JoinTokenService } from "../nodes/join-tokens.ts";
import { LivenessSweeper } from "../nodes/liveness-sweeper.ts";
import { NodeService } from "../nodes/node-service.ts";
import { NodeShutdowns } from "../nodes/node-shutdowns.ts";
import type { ClusterPki } from "../pki/cluster-pki-store.ts";
import type { BootBase } from "./base.ts";
import type { Steps } from "./start-sequence.ts";

/** The controller's side of the daemon link: nodes, enrolment, revocations and live sessions. */
export interface NodeLink {
  nodes: NodeService;
  joinTokens: JoinTokenService;
  revocations: CertRevocations;
  /** live daemon sessions on this controller: send commands, hear daemon frames */
  sessions: SessionRegistry;
  /** file transfers to and from instances, relayed to the controller holding the node */
  instanceFiles: InstanceFiles;
}

/**
 * Constructed only. Registered on the sequence, in this order: the revocation list (loaded and
 * subscribed), closing the streams of revoked certificates, the cross-controller command relay,
 * node handover and the instance-file relay.
 */
export function wireNodeLink(
  base: BootBase,
  deps: {
    /** the cluster CA's fingerprint, pinned in every join token */
    caFingerprint: string;
  },
  steps: Steps,
): NodeLink {
  const { store, coord, controllerId, log, clock } = base;
  const revocations = new CertRevocations({ store, coord, log });
  steps.add("certificate revocations", async () => {
    await revocations.start();
    return () => revocations.stop();
  });
  const nodes = new NodeService(store, () => clock.now());
  const joinTokens = new JoinTokenService(store, deps.caFingerprint, {
    isEnrolled: async (nodeId) => {
      const node = await nodes.get(nodeId);
      return node !== null && !node.certRevoked && (node.connected || node.certNotAfter > clock.now());
    },
  });
  const sessions = new SessionRegistry();
  steps.add("revoked streams closing", () => {
    const off = revocations.onChange((change) => sessions.closeRevoked(change));
    return () => void off();
  });
  steps.add("command relay", () => startCommandRelay({ coord, sessions, controllerId, log }));
  steps.add("node handover", () => startNodeHandover({ coord, sessions, controllerId, log }));
  const instanceFiles = new InstanceFiles({ sessions, coord, clock });
  steps.add("instance files", async () => {
    await instanceFiles.start();
    return () => instanceFiles.stop();
  });
  return { nodes, joinTokens, revocations, sessions, instanceFiles };
}

export interface NodeLiveness {
  /** node liveness and the lost-instance grace periods */
  sweeper: LivenessSweeper;
  /** ShutdownNode goes out on this controller's session to the node, or waits for the one holding it */
  shutdowns: NodeShutdowns;
}

/** Built once the instance reconciler exists (a lost node's instances go to it); the sweep is a start step. */
export function wireNodeLiveness(
  base: Pick<BootBase, "coord" | "controllerId" | "log">,
  deps: {
    link: Pick<NodeLink, "nodes" | "sessions">;
    reconciler: InstanceReconciler;
    heartbeat: ControllerConfig["heartbeat"];
  },
  steps: Steps,
): NodeLiveness {
  const { nodes, sessions } = deps.link;
  const sweeper = new LivenessSweeper({
    nodes,
    reconciler: deps.reconciler,
    coord: base.coord,
    controllerId: base.controllerId,
    log: base.log,
    settings: {
      heartbeatIntervalMs: deps.heartbeat.intervalMs,
      missedThreshold: deps.heartbeat.missedThreshold,
      instanceLostGraceMs: deps.heartbeat.instanceLostGraceMs,
    },
  });
  steps.add("liveness sweeper", () => {
    sweeper.start();
    return () => sweeper.stop();
  });
  const shutdowns = new NodeShutdowns({ nodes, sessions, log: base.log });
  return { sweeper, shutdowns };
}

/**
 * The daemon listener (gRPC, mTLS), registered as a start step under the readiness phase "gRPC";
 * `port()` is the bound port once that step ran, 0 before.
 */
export function addDaemonListener(
  base: Pick<BootBase, "coord" | "controllerId" | "log">,
  deps: {
    config: ControllerConfig;
    pki: ClusterPki;
    link: NodeLink;
    liveness: NodeLiveness;
    reconciler: InstanceReconciler;
    audit: AuditLog;
    httpPort: number;
    events: EventPublisher;
    metrics: Metrics;
  },
  steps: Steps,
): { port(): number } {
  const { log } = base;
  const { config, pki, link } = deps;
  let port = 0;
  steps.add(
    "gRPC",
    async () => {
      const grpc = await startGrpcServer({
        config,
        log,
        coord: base.coord,
        controllerId: base.controllerId,
        pki,
        nodes: link.nodes,
        joinTokens: link.joinTokens,
        revocations: link.revocations,
        reconciler: deps.reconciler,
        sweeper: deps.liveness.sweeper,
        registry: link.sessions,
        audit: deps.audit,
        httpPort: deps.httpPort,
        events: deps.events,
        metrics: deps.metrics,
      });
      port = grpc.port;
      log.info(
        { host: config.grpc.host, port: grpc.port, caFingerprint: pki.ca.fingerprint },
        "controller gRPC (daemon link, mTLS) listening",
      );
      return () => grpc.stop();
    },
    "gRPC",
  );
  return { port: () => port };
}
