import { type Clock, systemClock, type TimerHandle } from "../../core/clock.ts";
import { configFormatOf } from "../../core/templates/platform-format.ts";
import type { ProxyConfigFormat } from "../../core/templates/proxy-routes-config.ts";
import type { Logger } from "../../log/logger.ts";
import { ProxyRoutes, type ProxyRoutesAck } from "../../wire/index.ts";
import type { RoutingSource } from "../deployments/routing-view.ts";
import type { EventType } from "../events/event-types.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { InstanceDoc } from "../instances/instance-doc.ts";
import type { NodeService } from "../nodes/node-service.ts";
import type { NetworkSpec } from "./network-service.ts";
import { type ProxyRoutePlan, planProxyRoutes } from "./proxy-routes.ts";

/** An unacknowledged table is sent again after this long. */
const RESEND_MS = 5_000;
/** An acknowledged one is repeated this often anyway (the daemon writes nothing when it matches). */
const REFRESH_MS = 60_000;
/** Bound on the node read of one pass (far above any real fleet). */
/** Bursts of events (a rolling restart) make one pass. */
const DEBOUNCE_MS = 50;

/** Events after which a proxy's backend list may have changed. */
const TRIGGERS: readonly EventType[] = [
  "INSTANCE_STATE_CHANGED",
  "INSTANCE_DRAINING",
  "NETWORK_CREATED",
  "NETWORK_UPDATED",
  "NETWORK_DELETED",
  "NODE_CONNECTED",
  // a BLUE_GREEN switch closes the green wave; its end (either way) lifts the routing filter
  "DEPLOYMENT_WAVE_COMPLETED",
  "DEPLOYMENT_COMPLETED",
];

export interface ProxyRouteSyncDeps {
  /** nodes (their advertised addresses) */
  nodes: Pick<NodeService, "all">;
  /** RUNNING and DRAINING instances, bounded (InstanceService.serving) */
  instances: { serving(): Promise<InstanceDoc[]> };
  networks: { list(): Promise<NetworkSpec[]> };
  groups: { resolved(name: string): Promise<{ platform: string }> };
  sessions: Pick<SessionRegistry, "get" | "onFrame" | "onOpen">;
  /** local and (through the bridge) other controllers' events; optional, the timer still runs */
  events?: { on(type: EventType, handler: () => void): { unsubscribe(): void } };
  /** BLUE_GREEN routing: backends of the side routing is away from are left out */
  routing?: RoutingSource;
  log: Logger;
  /** level-triggered pass interval (the scheduler's evaluation interval) */
  intervalMs: number;
  clock?: Clock;
}

interface Sent {
  revision: string;
  sessionId: string;
  at: number;
  acked: boolean;
}

/**
 * Keeps every live proxy instance's servers / try / forced-hosts in step with the RUNNING backends
 * of its networks, without a plugin. Each controller serves the proxies on the nodes whose session
 * it holds (the session's epoch fences the frame), so when a controller dies the node's new
 * controller takes its proxies over on its next pass; a new session (a daemon restart) gets the
 * current table at once. A pass reads the store and sends only tables that changed, were not
 * acknowledged, or are due for a refresh; a pass that cannot read the store changes nothing.
 */
export class ProxyRouteSync {
  private readonly clock: Clock;
  private readonly sent = new Map<string, Sent>();
  private timer: TimerHandle | undefined;
  private debounce: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly stops: Array<() => void> = [];

  constructor(private readonly deps: ProxyRouteSyncDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  start(): void {
    this.stopped = false;
    this.timer = this.clock.setInterval(() => this.schedule(0), this.deps.intervalMs, { unref: true });
    const offFrame = this.deps.sessions.onFrame((_node, frame) => {
      if (frame.case === "proxyRoutesAck") this.onAck(frame.value);
      return undefined;
    });
    const offOpen = this.deps.sessions.onOpen(() => this.schedule());
    this.stops.push(offFrame, offOpen);
    for (const type of TRIGGERS) {
      const subscription = this.deps.events?.on(type, () => this.schedule());
      if (subscription) this.stops.push(() => subscription.unsubscribe());
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearInterval(this.timer);
    this.clock.clearTimeout(this.debounce);
    for (const stop of this.stops.splice(0)) stop();
    await this.running;
  }

  /** One pass now (also what the timer and the triggers run); overlapping calls share a pass. */
  syncOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs = DEBOUNCE_MS): void {
    if (this.stopped || this.debounce !== undefined) return;
    this.debounce = this.clock.setTimeout(
      () => {
        this.debounce = undefined;
        void this.syncOnce();
      },
      delayMs,
      { unref: true },
    );
  }

  private async pass(): Promise<void> {
    let plans: ProxyRoutePlan[];
    try {
      plans = await this.plan();
    } catch (err) {
      // Store (or a group read) unavailable: the proxies keep the list they have.
      this.deps.log.warn({ err }, "proxy routes not refreshed: could not read the network state");
      return;
    }
    const now = this.clock.now();
    const live = new Set<string>();
    for (const plan of plans) {
      live.add(plan.instanceId);
      const session = this.deps.sessions.get(plan.node);
      if (!session) continue; // another controller holds the node and serves its proxies
      const entry = this.sent.get(plan.instanceId);
      const due =
        !entry ||
        entry.sessionId !== session.sessionId ||
        entry.revision !== plan.revision ||
        (!entry.acked && now - entry.at >= RESEND_MS) ||
        now - entry.at >= REFRESH_MS;
      if (!due) continue;
      const outcome = session.send({
        case: "proxyRoutes",
        value: ProxyRoutes.create({
          instanceId: plan.instanceId,
          revision: plan.revision,
          servers: plan.servers.map((s) => ({ name: s.name, address: s.address })),
          try: [...plan.try],
          forcedHosts: plan.forcedHosts.map((h) => ({ host: h.host, servers: [...h.servers] })),
        }),
      });
      if (outcome !== "queued") continue;
      this.sent.set(plan.instanceId, {
        revision: plan.revision,
        sessionId: session.sessionId,
        at: now,
        acked: false,
      });
      if (entry?.revision !== plan.revision) {
        this.deps.log.info(
          { instanceId: plan.instanceId, revision: plan.revision, servers: plan.servers.map((s) => s.name) },
          "proxy routes sent",
        );
      }
    }
    for (const id of this.sent.keys()) if (!live.has(id)) this.sent.delete(id);
  }

  private async plan(): Promise<ProxyRoutePlan[]> {
    const networks = await this.deps.networks.list();
    if (networks.length === 0) return [];
    const proxyFormats = new Map<string, ProxyConfigFormat>();
    for (const group of new Set(networks.flatMap((n) => n.proxyGroups))) {
      // a proxy group that cannot be resolved gets no routes this round; the next sync tries again
      const spec = await this.deps.groups.resolved(group).catch(() => null);
      const format = spec ? configFormatOf(spec.platform) : undefined;
      if (format === "VELOCITY" || format === "BUNGEECORD") proxyFormats.set(group, format);
    }
    if (proxyFormats.size === 0) return [];
    const [serving, nodes, routable] = await Promise.all([
      this.deps.instances.serving(),
      this.deps.nodes.all(),
      this.deps.routing?.filter() ?? Promise.resolve(() => true),
    ]);
    return planProxyRoutes({
      networks,
      instances: serving.map((doc) => ({
        id: doc._id,
        group: doc.group,
        node: doc.node,
        state: doc.state,
        port: doc.port,
      })),
      nodeAddresses: new Map(nodes.map((node) => [node._id, node.address])),
      proxyFormats,
      unroutable: new Set(serving.filter((doc) => !routable(doc)).map((doc) => doc._id)),
    });
  }

  private onAck(ack: ProxyRoutesAck): void {
    const entry = this.sent.get(ack.instanceId);
    if (!entry || entry.revision !== ack.revision) return;
    if (ack.ok) {
      entry.acked = true;
      if (ack.changed) {
        this.deps.log.info(
          { instanceId: ack.instanceId, revision: ack.revision },
          "proxy reloaded its routes",
        );
      }
      return;
    }
    // Left unacknowledged: the next pass after RESEND_MS tries again.
    this.deps.log.warn(
      { instanceId: ack.instanceId, revision: ack.revision, error: ack.error },
      "proxy routes not applied",
    );
  }
}
