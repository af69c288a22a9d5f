import { isAppError } from "../../core/errors.ts";
import { createCompositionPlan } from "../../core/plan/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { Fence } from "../../store/port.ts";
import type { CatalogEntry } from "../catalog/catalog-service.ts";
import { DownloadsApiError } from "../catalog/papermc-downloads.ts";
import type { RevisionSpecs } from "../deployments/revision-specs.ts";
import type { ResolvedGroup } from "../groups/group-inheritance.ts";
import type { GroupService } from "../groups/group-service.ts";
import { forwardingRoleOf } from "../networks/forwarding-role.ts";
import type { NetworkSpec } from "../networks/network-service.ts";
import type { TemplateService } from "../templates/template-service.ts";
import type { PlanDoc } from "./instance-doc.ts";
import { buildPlanContent } from "./plan-builder.ts";

/** Servers that refuse to run until `eula.txt` says `eula=true`. */
const EULA_PLATFORMS = new Set(["PAPER", "FOLIA", "PURPUR", "SPIGOT"]);

/** Errors of a plan build that say a dependency was away, not that the plan is wrong. */
const PLAN_OUTAGES = ["STORE_UNAVAILABLE", "COORDINATION_UNAVAILABLE", "UNAVAILABLE"] as const;

/** A plan that cannot be built, with the code the pause and the instance record name. */
export class PlanFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a failed plan build means for the group: PERMANENT (a missing catalog build or template, an
 * unaccepted EULA: retrying cannot fix it) or not (an unreachable downloads API, store or
 * coordination may come back, so it counts toward the crash-loop detector instead).
 */
export function classifyPlanFailure(err: unknown): { code: string; permanent: boolean } {
  const outage = PLAN_OUTAGES.find((c) => isAppError(err, c));
  const permanent = !(err instanceof DownloadsApiError && !err.permanent) && outage === undefined;
  const code =
    err instanceof PlanFailure
      ? err.code
      : err instanceof DownloadsApiError
        ? permanent
          ? "CATALOG_NO_BUILD"
          : "CATALOG_UNAVAILABLE"
        : (outage ?? "PLAN_FAILED");
  return { code, permanent };
}

export interface PlanComposerDeps {
  groups: Pick<GroupService, "resolved">;
  revisions: Pick<RevisionSpecs, "pinsOf">;
  /** the catalog, falling back to the PaperMC downloads API (CatalogResolver) */
  catalog: { resolve(platform: string, version: string): Promise<CatalogEntry> };
  templates: Pick<TemplateService, "list">;
  /** REST base URL handed to the plugin as CLOUD_CONTROLLER_URL */
  controllerUrl: () => string;
  log: Logger;
  /** controller.yml `minecraft.acceptEula`: the operator accepted the EULA for every group */
  acceptEula?: boolean;
  /** the network compositions, for each group's forwarding role */
  networks?: { list(): Promise<NetworkSpec[]> };
}

/** What a plan is composed for: one placement, under the placer's fence. */
export interface Placement {
  instanceId: string;
  group: string;
  node: string;
  port: number;
  fence: Fence;
  deploymentRevision?: number;
}

/**
 * Builds and seals the composition plan of one placement: the group as its revision has it, the
 * platform artifact, the template layers (a revision's pins over the current versions) and the
 * group's forwarding role in the networks. Reads only; the lifecycle persists what it returns.
 */
export class PlanComposer {
  constructor(private readonly deps: PlanComposerDeps) {}

  async compose(placement: Placement, group: ResolvedGroup, placedAt: number): Promise<PlanDoc> {
    // The daemon writes eula.txt for every server it is sent; so nothing is sent until accepted.
    if (EULA_PLATFORMS.has(group.platform) && !this.deps.acceptEula && !group.acceptEula) {
      throw new PlanFailure(
        "EULA_NOT_ACCEPTED",
        `the Minecraft EULA (https://aka.ms/MinecraftEULA) is not accepted: set minecraft.acceptEula: true in controller.yml or acceptEula: true on group ${placement.group}`,
      );
    }
    const artifact = await this.artifactFor(group.platform, group.platformVersion);
    const templates = new Map(
      (await this.deps.templates.list()).map((t) => [t.name, t.currentHash ?? ""] as const),
    );
    // A revision's instances run the template versions it pinned, whatever is current now.
    for (const [name, hash] of await this.deps.revisions.pinsOf(
      placement.group,
      placement.deploymentRevision ?? 0,
    ))
      if (templates.has(name)) templates.set(name, hash);
    const built = buildPlanContent({
      instanceId: placement.instanceId,
      nodeId: placement.node,
      port: placement.port,
      group,
      artifact,
      templates,
      controllerUrl: this.deps.controllerUrl(),
      placedAt,
      forwarding: await this.forwardingRole(placement.group),
    });
    // A template the operator named (not one of the optional fixed layers) must be there.
    const missingUser = built.skippedLayers.filter((name) => group.templates.includes(name));
    if (missingUser.length > 0)
      throw new PlanFailure("UNKNOWN_TEMPLATE", `unknown template ${missingUser.join(", ")}`);
    if (built.skippedLayers.length > 0) {
      this.deps.log.info(
        { instanceId: placement.instanceId, skipped: built.skippedLayers },
        "template layers missing; skipped",
      );
    }
    const sealed = createCompositionPlan(built.content, {
      now: new Date(placedAt),
      fencing: placement.fence,
    });
    return { ...sealed, _id: placement.instanceId, dispatch: built.dispatch };
  }

  private async artifactFor(platform: string, version: string): Promise<CatalogEntry | null> {
    try {
      return await this.deps.catalog.resolve(platform, version);
    } catch (err) {
      // CUSTOM runs an operator command line and needs no jar unless the catalog names one.
      if (platform === "CUSTOM" && isAppError(err, "NOT_FOUND")) return null;
      throw err;
    }
  }

  /** The group's place in the network compositions (the proxies' platforms decide the backends'). */
  private async forwardingRole(group: string) {
    if (!this.deps.networks) return { kind: "none" } as const;
    const networks = await this.deps.networks.list();
    const platforms = new Map<string, string>();
    for (const network of networks) {
      for (const proxy of network.proxyGroups) {
        if (platforms.has(proxy)) continue;
        // a proxy group that cannot be resolved just contributes no platform; the plan is built without it
        const spec = await this.deps.groups.resolved(proxy).catch(() => null);
        if (spec) platforms.set(proxy, spec.platform);
      }
    }
    return forwardingRoleOf(group, networks, platforms);
  }
}
