import type { DurableStore } from "../../store/port.ts";
import type { ResolvedGroup } from "../groups/group-inheritance.ts";
import { type GroupService, toGroupView } from "../groups/group-service.ts";
import { DEPLOYMENTS, type DeploymentDoc, deploymentId } from "./deployment-doc.ts";
import { pinnedSpec } from "./group-pins.ts";

/**
 * What an instance of one deployment revision is placed with, read from the deployment records:
 * the group's settings as that revision recorded them and the template versions it pinned. The
 * lifecycle asks here instead of reading the deployments collection itself.
 */
export class RevisionSpecs {
  constructor(
    private readonly store: DurableStore,
    private readonly groups: Pick<GroupService, "get" | "resolved" | "resolvedAs">,
  ) {}

  private get col() {
    return this.store.collection<DeploymentDoc>(DEPLOYMENTS);
  }

  /**
   * The group as an instance of `revision` is placed: the revision's recorded group snapshot (the
   * patch its deployment applied), with later plain edits on top (pinnedSpec). No deployment yet, or
   * the latest revision: the group as it is.
   */
  async groupAt(group: string, revision: number): Promise<ResolvedGroup> {
    const [latest] = await this.col.find({ groupName: group }, { sort: [["revision", -1]], limit: 1 });
    if (latest === undefined || revision === latest.revision) return this.groups.resolved(group);
    // Before the first deployment: what that deployment found at trigger.
    const at =
      revision > 0
        ? (await this.col.get(deploymentId(group, revision)))?.groupSnapshot
        : (await this.col.find({ groupName: group }, { sort: [["revision", 1]], limit: 1 }))[0]?.baseline
            .groupSnapshot;
    if (at === undefined) return this.groups.resolved(group);
    const { createdAt: _c, updatedAt: _u, ...current } = toGroupView(await this.groups.get(group));
    return this.groups.resolvedAs(group, pinnedSpec(current, at, latest.groupSnapshot));
  }

  /** The template versions `revision` pinned, as [name, content hash]; none before the first. */
  async pinsOf(group: string, revision: number): Promise<Array<[string, string]>> {
    if (revision <= 0) return [];
    const doc = await this.col.get(deploymentId(group, revision));
    return Object.entries(doc?.templateSnapshot ?? {}).map(([name, pin]) => [name, pin.hash]);
  }
}
