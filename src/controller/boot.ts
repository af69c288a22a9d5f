import { join, resolve } from "node:path";
import type { ControllerConfig } from "../config/controller-config.ts";
import type { Coordination } from "../coord/port.ts";
import type { Logger } from "../log/logger.ts";
import type { DurableStore } from "../store/port.ts";
import { AuditLog } from "./audit/audit-log.ts";
import { startAuditPruner } from "./audit/audit-pruner.ts";
import { type BootstrapResult, ensureBootstrapAdmin } from "./auth/bootstrap-admin.ts";
import { RoleService } from "./auth/role-service.ts";
import { resolveJwtSecret, TokenService } from "./auth/token-service.ts";
import { UserService } from "./auth/user-service.ts";
import { resolveControllerId } from "./controller-id.ts";
import type { EventPublisher } from "./events/event-types.ts";
import { GroupService } from "./groups/group-service.ts";
import { createHttpApp } from "./http/app.ts";
import { RouteTable } from "./http/route-table.ts";
import { auditRoutes } from "./http/routes/audit-routes.ts";
import { authRoutes } from "./http/routes/auth-routes.ts";
import { groupRoutes } from "./http/routes/group-routes.ts";
import { networkRoutes } from "./http/routes/network-routes.ts";
import { settingsRoutes } from "./http/routes/settings-routes.ts";
import { systemRoutes } from "./http/routes/system-routes.ts";
import { userRoutes } from "./http/routes/user-routes.ts";
import { MaintenanceService } from "./maintenance-service.ts";
import { NetworkService } from "./networks/network-service.ts";
import { openCoordination, openStore } from "./open-state.ts";

export interface ControllerOptions {
  /** install root: config/, data/ and friends live below it */
  root: string;
  config: ControllerConfig;
  log: Logger;
}

export interface RunningController {
  id: string;
  httpPort: number;
  store: DurableStore;
  coord: Coordination;
  bootstrap: BootstrapResult;
  routes: RouteTable;
  stop(): Promise<void>;
}

export function initialPasswordFile(root: string): string {
  return join(resolve(root), "config", ".initial-admin-password");
}

/** Every REST route, given the services they call. */
export function buildRouteTable(deps: {
  config: ControllerConfig;
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  startedAt: number;
  tokens: TokenService;
  users: UserService;
  roles: RoleService;
  audit: AuditLog;
  groups: GroupService;
  networks: NetworkService;
  maintenance: MaintenanceService;
}): RouteTable {
  const table = new RouteTable();
  systemRoutes(table, { ...deps, profile: deps.config.runtime.profile });
  authRoutes(table, deps);
  userRoutes(table, deps.users, deps.roles);
  auditRoutes(table, deps.audit);
  groupRoutes(table, deps.groups);
  networkRoutes(table, deps.networks);
  settingsRoutes(table, deps.maintenance, deps.config);
  return table;
}

/**
 * Hand wiring in dependency order: state first (so a bad URI fails before any port is bound),
 * then identity, services, listeners and bootstrap data. stop() undoes it in reverse.
 */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  const { root, config, log } = options;
  const teardown: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of teardown.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        log.warn({ err }, "shutdown step failed");
      }
    }
  };
  try {
    const store = await openStore(root, config);
    teardown.push(() => store.close());
    log.info({ store: store.kind, location: store.location }, "durable store open");

    const coord = await openCoordination(config);
    teardown.push(() => coord.close());
    log.info({ coordination: coord.kind, location: coord.location }, "coordination store connected");

    const id = resolveControllerId(config.uuid, join(resolve(root, config.runtime.dataDir), "controller-id"));
    const startedAt = Date.now();
    const jwtSecret = await resolveJwtSecret(config.security.jwtSecret, store);
    const tokens = new TokenService(
      jwtSecret,
      config.security.jwtPreviousSecrets,
      config.security.jwtExpirationMinutes * 60,
      coord,
    );
    const roles = new RoleService(store);
    const users = new UserService(store, roles, initialPasswordFile(root));
    const audit = new AuditLog(store);
    teardown.push(
      startAuditPruner({
        audit,
        coord,
        controllerId: id,
        retentionDays: config.scheduler.auditRetentionDays,
        log,
      }),
    );

    // Until the event bus is wired, publishing is a no-op; the services already announce changes.
    const events: EventPublisher = { publish: async () => {} };
    const lease = { coord, holder: id };
    const groups = new GroupService(store, events, lease);
    const networks = new NetworkService(store, events, lease);
    const seeded = await networks.seed(config.networks);
    if (seeded > 0) log.info({ seeded }, "seeded network compositions from controller.yml");
    const maintenance = new MaintenanceService(store, config.maintenance, events, lease);
    const routes = buildRouteTable({
      config,
      store,
      coord,
      controllerId: id,
      startedAt,
      tokens,
      users,
      roles,
      audit,
      groups,
      networks,
      maintenance,
    });
    const app = createHttpApp({ config, coord, log, tokens, users, roles, audit, routes });
    app.listen({
      hostname: config.http.host,
      port: config.http.port,
      // Bun's own limit answers 413 without our envelope, so it sits well above ours; requests that
      // declare a larger Content-Length are refused with the envelope before the body is read.
      maxRequestBodySize: Math.max(config.http.maxBodyBytes * 4, 64 * 1024 * 1024),
    });
    teardown.push(async () => {
      await app.stop();
    });
    const httpPort = app.server?.port ?? config.http.port;
    log.info(
      { host: config.http.host, port: httpPort, controllerId: id, profile: config.runtime.profile },
      "controller REST listening",
    );
    // After listening: the Argon2id hash costs ~0.2 s and liveness should not wait for it.
    const bootstrap = await ensureBootstrapAdmin(
      store,
      initialPasswordFile(root),
      config.security.initialAdminPassword,
      log,
    );
    return { id, httpPort, store, coord, bootstrap, routes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
