import type { ControllerConfig } from "../../config/controller-config.ts";
import type { Coordination } from "../../coord/port.ts";
import type { Clock } from "../../core/clock.ts";
import type { DurableStore } from "../../store/port.ts";
import type { BackupService } from "../backup/backup-service.ts";
import type { AuthWiring } from "../boot/auth-wiring.ts";
import type { DesiredState } from "../boot/desired-state-wiring.ts";
import type { NodeLink, NodeLiveness } from "../boot/node-link-wiring.ts";
import type { Scheduling } from "../boot/scheduling-wiring.ts";
import { saveToTemplate } from "../deployments/save-to-template.ts";
import type { EventSystem } from "../events/event-system.ts";
import type { InstanceWiring } from "../instances/wiring.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { pingedPlayerSource } from "../players/pinged-players.ts";
import type { WorkloadServices } from "../workload/wiring.ts";
import { RouteTable } from "./route-table.ts";
import { auditRoutes } from "./routes/audit-routes.ts";
import { authRoutes } from "./routes/auth-routes.ts";
import { backupRoutes } from "./routes/backup-routes.ts";
import { catalogRoutes } from "./routes/catalog-routes.ts";
import { crashRoutes } from "./routes/crash-routes.ts";
import { deploymentRoutes } from "./routes/deployment-routes.ts";
import { eventRoutes } from "./routes/event-routes.ts";
import { groupRoutes } from "./routes/group-routes.ts";
import { instanceMetricsRoutes } from "./routes/instance-metrics-routes.ts";
import { instanceRoutes } from "./routes/instance-routes.ts";
import { metricsRoutes } from "./routes/metrics-routes.ts";
import { networkRoutes } from "./routes/network-routes.ts";
import { nodeRoutes } from "./routes/node-routes.ts";
import { playerRoutes } from "./routes/player-routes.ts";
import { pluginRoutes, type WorkloadRouteDeps } from "./routes/plugin-routes.ts";
import { proxyRoutes } from "./routes/proxy-routes.ts";
import { schedulerRoutes } from "./routes/scheduler-routes.ts";
import { settingsRoutes } from "./routes/settings-routes.ts";
import { systemRoutes } from "./routes/system-routes.ts";
import { templateRoutes } from "./routes/template-routes.ts";
import { tokenRoutes } from "./routes/token-routes.ts";
import { userRoutes } from "./routes/user-routes.ts";

/** Every REST route, given the wirings whose services they call. */
export function buildRouteTable(deps: {
  config: ControllerConfig;
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  startedAt: number;
  clock: Clock;
  auth: AuthWiring;
  desired: DesiredState;
  link: NodeLink;
  liveness: Pick<NodeLiveness, "shutdowns">;
  scheduling: Scheduling;
  caFingerprint: string;
  events: EventSystem;
  metrics: Metrics;
  instances: InstanceWiring;
  workload: WorkloadServices;
  backups: BackupService;
  /** why the store must not be served (a restore running or interrupted), else null */
  restoreReason?: () => string | null;
  /** what is still starting (the local daemon of `prexor up`), else null */
  startupReason?: () => string | null;
  /** lifts the HTTP idle timeout for one long-lived response (SSE) */
  keepOpen(request: Request): void;
}): RouteTable {
  const table = new RouteTable();
  const { config, coord, clock, auth, desired, link, events, instances } = deps;
  const now = () => clock.now();
  // Each route module gets exactly the fields its deps type names: no spread bags, so two services'
  // same-named members (both wirings have a `stop`) cannot silently shadow one another.
  systemRoutes(table, {
    store: deps.store,
    coord,
    controllerId: deps.controllerId,
    profile: config.runtime.profile,
    startedAt: deps.startedAt,
    clock,
    restoreReason: deps.restoreReason,
    startupReason: deps.startupReason,
  });
  authRoutes(table, { config, coord, tokens: auth.tokens, users: auth.users, clock });
  userRoutes(table, auth.users, auth.roles);
  auditRoutes(table, auth.audit);
  groupRoutes(table, desired.groups, instances.pauses);
  deploymentRoutes(table, deps.scheduling.deployments, desired.templates, (id, template, actor) =>
    saveToTemplate(
      {
        instances: instances.instances,
        files: link.instanceFiles,
        templates: desired.templates,
        planLayerHash: async (instanceId, template) => {
          // no stored plan (never placed, or pruned): no layer hash to build on
          const plan = await instances.lifecycle.plan(instanceId).catch(() => null);
          return plan?.templates.find((t) => t.name === template)?.hash;
        },
      },
      id,
      template,
      actor,
    ),
  );
  networkRoutes(table, desired.networks);
  settingsRoutes(table, desired.maintenance, config);
  templateRoutes(table, desired.templates);
  catalogRoutes(table, desired.catalog, desired.catalogResolver);
  eventRoutes(table, {
    hub: events.hub,
    tickets: events.tickets,
    coord: events.coord,
    log: events.log,
    replayBufferSize: events.replayBufferSize,
    keepOpen: deps.keepOpen,
  });
  metricsRoutes(table, deps.metrics);
  nodeRoutes(table, {
    nodes: link.nodes,
    revocations: link.revocations,
    events: events.bus,
    shutdowns: deps.liveness.shutdowns,
    scheduler: deps.scheduling.scheduler,
    now,
  });
  tokenRoutes(table, { joinTokens: link.joinTokens, caFingerprint: deps.caFingerprint, now });
  instanceRoutes(table, {
    instances: instances.instances,
    lifecycle: instances.lifecycle,
    starter: instances.starter,
    console: instances.console,
    lease: instances.lease,
    tickets: events.tickets,
    roles: auth.roles,
    keepOpen: deps.keepOpen,
  });
  crashRoutes(table, instances.crashes);
  const workload: WorkloadRouteDeps = {
    auth: instances.auth,
    instances: instances.instances,
    groups: desired.groups,
    events: events.bus,
    players: deps.workload.players,
    transfers: deps.workload.transfers,
    instanceMetrics: deps.workload.instanceMetrics,
    tickets: events.tickets,
    clock,
    routing: deps.workload.routing,
  };
  pluginRoutes(table, workload);
  proxyRoutes(table, { ...workload, networks: desired.networks });
  instanceMetricsRoutes(table, { instanceMetrics: deps.workload.instanceMetrics });
  playerRoutes(table, {
    players: deps.workload.players,
    transfers: deps.workload.transfers,
    journey: deps.workload.journey,
    pinged: pingedPlayerSource({ instances: instances.instances, groups: desired.groups }),
  });
  schedulerRoutes(table, {
    scheduler: deps.scheduling.scheduler,
    intervalSeconds: deps.config.scheduler.evaluationIntervalSeconds,
  });
  backupRoutes(table, deps.backups, deps.config.backup.retentionCount);
  return table;
}
