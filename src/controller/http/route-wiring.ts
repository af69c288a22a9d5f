import type { ControllerConfig } from "../../config/controller-config.ts";
import type { Coordination } from "../../coord/port.ts";
import type { Clock } from "../../core/clock.ts";
import type { DurableStore } from "../../store/port.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { RoleService } from "../auth/role-service.ts";
import type { TokenService } from "../auth/token-service.ts";
import type { UserService } from "../auth/user-service.ts";
import type { BackupService } from "../backup/backup-service.ts";
import type { CatalogResolver } from "../catalog/catalog-resolver.ts";
import type { CatalogService } from "../catalog/catalog-service.ts";
import type { DeploymentService } from "../deployments/deployment-service.ts";
import { saveToTemplate } from "../deployments/save-to-template.ts";
import type { EventSystem } from "../events/event-system.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { InstanceFiles } from "../instances/instance-files.ts";
import type { InstanceWiring } from "../instances/wiring.ts";
import type { MaintenanceService } from "../maintenance-service.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { NetworkService } from "../networks/network-service.ts";
import type { CertRevocations } from "../nodes/cert-revocations.ts";
import type { JoinTokenService } from "../nodes/join-tokens.ts";
import type { NodeService } from "../nodes/node-service.ts";
import type { NodeShutdowns } from "../nodes/node-shutdowns.ts";
import { pingedPlayerSource } from "../players/pinged-players.ts";
import type { SchedulerLoop } from "../scheduler/loop/index.ts";
import type { TemplateService } from "../templates/template-service.ts";
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

/** Every REST route, given the services they call. */
export function buildRouteTable(deps: {
  config: ControllerConfig;
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  startedAt: number;
  clock: Clock;
  tokens: TokenService;
  users: UserService;
  roles: RoleService;
  audit: AuditLog;
  groups: GroupService;
  deployments: DeploymentService;
  instanceFiles: InstanceFiles;
  networks: NetworkService;
  maintenance: MaintenanceService;
  templates: TemplateService;
  catalog: CatalogService;
  catalogResolver: CatalogResolver;
  events: EventSystem;
  metrics: Metrics;
  nodes: NodeService;
  revocations: CertRevocations;
  shutdowns: NodeShutdowns;
  joinTokens: JoinTokenService;
  caFingerprint: string;
  scheduler: SchedulerLoop;
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
  systemRoutes(table, { ...deps, profile: deps.config.runtime.profile });
  authRoutes(table, deps);
  userRoutes(table, deps.users, deps.roles);
  auditRoutes(table, deps.audit);
  groupRoutes(table, deps.groups, deps.instances.pauses);
  deploymentRoutes(table, deps.deployments, deps.templates, (id, template, actor) =>
    saveToTemplate(
      {
        instances: deps.instances.instances,
        files: deps.instanceFiles,
        templates: deps.templates,
        planLayerHash: async (instanceId, template) => {
          // no stored plan (never placed, or pruned): no layer hash to build on
          const plan = await deps.instances.lifecycle.plan(instanceId).catch(() => null);
          return plan?.templates.find((t) => t.name === template)?.hash;
        },
      },
      id,
      template,
      actor,
    ),
  );
  networkRoutes(table, deps.networks);
  settingsRoutes(table, deps.maintenance, deps.config);
  templateRoutes(table, deps.templates);
  catalogRoutes(table, deps.catalog, deps.catalogResolver);
  eventRoutes(table, { ...deps.events, keepOpen: deps.keepOpen });
  metricsRoutes(table, deps.metrics);
  nodeRoutes(table, { ...deps, events: deps.events.bus });
  tokenRoutes(table, deps);
  const { instances } = deps;
  // Each route module gets exactly the fields its deps type names: no spread bags, so two services'
  // same-named members (both wirings have a `stop`) cannot silently shadow one another.
  instanceRoutes(table, {
    instances: instances.instances,
    lifecycle: instances.lifecycle,
    starter: instances.starter,
    console: instances.console,
    lease: instances.lease,
    tickets: deps.events.tickets,
    roles: deps.roles,
    keepOpen: deps.keepOpen,
  });
  crashRoutes(table, instances.crashes);
  const workload: WorkloadRouteDeps = {
    auth: instances.auth,
    instances: instances.instances,
    groups: deps.groups,
    events: deps.events.bus,
    players: deps.workload.players,
    transfers: deps.workload.transfers,
    instanceMetrics: deps.workload.instanceMetrics,
    tickets: deps.events.tickets,
    clock: deps.clock,
    routing: deps.workload.routing,
  };
  pluginRoutes(table, workload);
  proxyRoutes(table, { ...workload, networks: deps.networks });
  instanceMetricsRoutes(table, deps.workload);
  playerRoutes(table, {
    ...deps.workload,
    pinged: pingedPlayerSource({ instances: deps.instances.instances, groups: deps.groups }),
  });
  schedulerRoutes(table, {
    scheduler: deps.scheduler,
    intervalSeconds: deps.config.scheduler.evaluationIntervalSeconds,
  });
  backupRoutes(table, deps.backups, deps.config.backup.retentionCount);
  return table;
}
