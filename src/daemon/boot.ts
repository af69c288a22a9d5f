import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { DaemonConfig } from "../config/daemon-config.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { Logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { EnrollmentError, enroll } from "./enroll.ts";
import { loadIdentity, type NodeIdentity } from "./identity-store.ts";
import { ArtifactFetcher } from "./link/artifact-fetcher.ts";
import { DaemonLink } from "./link/daemon-link.ts";
import { SupervisorAdapter } from "./link/supervisor-adapter.ts";
import type { LinkCommands, LinkSupervisor } from "./link/supervisor-port.ts";
import { Supervisor, supervisorConfigFromDaemon } from "./supervisor/index.ts";

export interface DaemonOptions {
  /** install root; relative paths in daemon.yml resolve against it */
  root: string;
  config: DaemonConfig;
  log: Logger;
  /** `--controller HOST:PORT`; otherwise controller.host:grpcPort from daemon.yml */
  controllerAddress?: string;
  /** `--join-token`; otherwise security.joinToken from daemon.yml */
  joinToken?: string;
  supervisor?: LinkSupervisor;
  commands?: LinkCommands;
  /** time and timers for the link and the supervisor (the system clock unless a test passes its own) */
  clock?: Clock;
}

export interface RunningDaemon {
  nodeId: string;
  identity: NodeIdentity;
  link: DaemonLink;
  /** true when this start enrolled the node (first start with a token) */
  enrolled: boolean;
  /** resolves with the reason when the controller asks this node to shut down (ShutdownNode) */
  shutdownRequested: Promise<string>;
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /** Leave every workload running (detached) instead of stopping it. */
  leaveWorkloads?: boolean;
}

export function controllerAddressOf(config: DaemonConfig): string {
  const host = config.controller.host.includes(":") ? `[${config.controller.host}]` : config.controller.host;
  return `${host}:${config.controller.grpcPort}`;
}

/**
 * Hand wiring for the daemon: identity first (enrol with the join token when there is no
 * certificate yet), then the link. A node that is already enrolled ignores any token it is given,
 * so restarting with the same command line works; one without a certificate and without a token
 * refuses to start.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const root = resolve(options.root);
  const certificateDir = resolve(root, config.security.certificateDir);
  const address = options.controllerAddress ?? controllerAddressOf(config);
  const token = (options.joinToken ?? config.security.joinToken).trim();

  let identity = loadIdentity(certificateDir);
  let enrolled = false;
  if (identity) {
    if (token !== "")
      log.info({ nodeId: identity.nodeId }, "already enrolled: the join token is not needed and was ignored");
  } else {
    if (token === "") {
      throw new EnrollmentError(
        `this node is not enrolled (no certificate in ${certificateDir}); start it once with ` +
          "--join-token pxr_… (create one with `prexorctl token create`)",
      );
    }
    identity = await enroll({
      address,
      joinToken: token,
      nodeId: config.nodeId,
      certificateDir,
      daemonVersion: VERSION,
      log,
    });
    enrolled = true;
  }
  if (identity.nodeId !== config.nodeId) {
    log.warn(
      { configured: config.nodeId, enrolledAs: identity.nodeId },
      "nodeId in daemon.yml differs from the enrolled identity; the certificate's node id is used",
    );
  }

  const instancesDir = resolve(root, config.instances.directory);
  mkdirSync(instancesDir, { recursive: true });
  // The link, the artifact fetcher and the supervisor refer to each other. Built in order, with each
  // back-reference bound once its target exists: the fetcher sends through the link (no link yet: the
  // request is refused), the adapter reaches the supervisor (asked before it exists: an error, not an
  // undefined), and the adapter reports through the link from `attach` on, before the link starts.
  let linkRef: DaemonLink | undefined;
  const artifacts = new ArtifactFetcher((request) => linkRef?.requestArtifact(request) ?? false);
  const wired = options.supervisor
    ? { link: options.supervisor, own: undefined, adapter: undefined }
    : await ownSupervisor(config, root, artifacts, log, clock);
  const supervisor = wired.own;
  const adapter = wired.adapter;
  let onShutdown: (reason: string) => void = () => {};
  const shutdownRequested = new Promise<string>((resolve) => {
    onShutdown = resolve;
  });
  const link = new DaemonLink({
    identity,
    endpoints: [address, ...config.controller.endpoints, ...identity.controllerGrpcAddrs],
    supervisor: wired.link,
    commands: options.commands ?? adapter,
    artifacts,
    log,
    clock,
    settings: {
      reconnect: config.reconnect,
      labels: config.labels,
      advertiseAddress: config.advertiseAddress,
      daemonVersion: VERSION,
      maxMemoryMb: config.resources.maxMemoryMb,
      diskPath: instancesDir,
      helloTimeoutMs: config.controller.helloTimeoutMs,
    },
    onShutdown: (reason) => onShutdown(reason),
  });
  linkRef = link;
  adapter?.attach(link);
  link.start();
  log.info({ nodeId: identity.nodeId, controller: address }, "daemon started");
  const stop = async (options: StopOptions = {}) => {
    if (options.leaveWorkloads) {
      // A restart or an upgrade: the servers keep serving, and the next daemon re-adopts them.
      supervisor?.detachAll();
      log.info("daemon exiting; workloads keep running and are re-adopted by the next start");
    } else {
      // Instances first, while the link can still report their STOPPED states.
      await supervisor?.stopAll({ reason: "daemon shutting down" }).catch(() => undefined);
    }
    await link.stop();
  };
  return { nodeId: identity.nodeId, identity, link, enrolled, shutdownRequested, stop };
}

/** This daemon's own supervisor and the adapter between it and the link, wired to each other. */
async function ownSupervisor(
  config: DaemonConfig,
  root: string,
  artifacts: ArtifactFetcher,
  log: Logger,
  clock: Clock,
): Promise<{ link: LinkSupervisor; own: Supervisor; adapter: SupervisorAdapter }> {
  let created: Supervisor | undefined;
  const adapter = new SupervisorAdapter(() => {
    if (created === undefined) throw new Error("the supervisor was asked for before it was created");
    return created;
  }, artifacts);
  created = await Supervisor.create(
    // The wire plan carries every hashed field, so the daemon re-verifies planHash itself.
    { ...supervisorConfigFromDaemon(config, root), verifyPlanHash: true },
    {
      fetchLayer: adapter.fetchLayer,
      runtimeSource: adapter.runtimeSource,
      onEvent: adapter.onEvent,
      logger: log.child({ component: "supervisor" }),
      now: () => clock.now(),
      timers: clock,
    },
  );
  return { link: created, own: created, adapter };
}
