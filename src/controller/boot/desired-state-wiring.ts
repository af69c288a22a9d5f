import { resolve } from "node:path";
import type { ControllerConfig } from "../../config/controller-config.ts";
import { CatalogResolver } from "../catalog/catalog-resolver.ts";
import { CatalogService } from "../catalog/catalog-service.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { GroupService } from "../groups/group-service.ts";
import type { LeaseGateOptions } from "../lease-gate.ts";
import { MaintenanceService } from "../maintenance-service.ts";
import { NetworkService } from "../networks/network-service.ts";
import { TemplateFiles } from "../templates/template-files.ts";
import { TemplateService } from "../templates/template-service.ts";
import type { BootBase } from "./base.ts";
import type { Steps } from "./start-sequence.ts";

/** What the operator declares: groups, networks, maintenance, templates and the catalog. */
export interface DesiredState {
  groups: GroupService;
  networks: NetworkService;
  maintenance: MaintenanceService;
  templateFiles: TemplateFiles;
  templates: TemplateService;
  catalog: CatalogService;
  catalogResolver: CatalogResolver;
  /** where catalog artifacts are kept (served to daemons) */
  artifactDir: string;
}

/**
 * The services behind the operator's declarations, each writing under its own lease. Constructed
 * only; seeding the networks controller.yml names is a start step (it writes to the store).
 */
export function wireDesiredState(
  base: Pick<BootBase, "store" | "log" | "clock">,
  deps: {
    root: string;
    events: EventPublisher;
    lease: LeaseGateOptions;
    config: Pick<ControllerConfig, "networks" | "maintenance" | "catalog">;
  },
  steps: Steps,
): DesiredState {
  const { store, log, clock } = base;
  const { events, lease, config } = deps;
  const groups = new GroupService(store, events, lease, clock);
  const networks = new NetworkService(store, groups, events, lease, clock);
  steps.add("network seed", async () => {
    const seeded = await networks.seed(config.networks);
    if (seeded > 0) log.info({ seeded }, "seeded network compositions from controller.yml");
    return undefined;
  });
  const maintenance = new MaintenanceService(store, config.maintenance, events, lease, clock);
  const templateFiles = new TemplateFiles(resolve(deps.root, "templates"));
  const templates = new TemplateService(store, templateFiles, events, lease, undefined, clock);
  const artifactDir = resolve(deps.root, "artifacts");
  const catalog = new CatalogService(store, artifactDir, lease, clock);
  const catalogResolver = new CatalogResolver(
    catalog,
    config.catalog.downloads,
    log.child({ component: "catalog" }),
  );
  return { groups, networks, maintenance, templateFiles, templates, catalog, catalogResolver, artifactDir };
}
