import { configFormatOf } from "../../core/templates/platform-format.ts";
import type { InstanceDoc } from "../instances/instance-doc.ts";
import type { PlayerInfo } from "./player-info.ts";

/** Servers that hide their players answer the list ping with this UUID for every entry. */
const ANONYMOUS = "00000000-0000-0000-0000-000000000000";

/**
 * Players the cloud knows only from its servers' list pings (no plugin reports them): each sampled
 * entry with a real UUID on a serving backend that has no plugin-reported player. A server that runs
 * the plugin is left to the plugin (its reports are exact, a sample holds at most 12 names), and
 * proxies are left out (their sample repeats the players of their backends). `connectedSince` is
 * when the controller first saw the name in that server's sample.
 */
export function pingedPlayers(
  instances: readonly InstanceDoc[],
  reported: readonly PlayerInfo[],
  isProxyGroup: (group: string) => boolean,
): PlayerInfo[] {
  const covered = new Set<string>();
  for (const player of reported) {
    if (player.instanceId) covered.add(player.instanceId);
    covered.add(player.uuid);
  }
  const out: PlayerInfo[] = [];
  for (const doc of instances) {
    if (
      (doc.state !== "RUNNING" && doc.state !== "DRAINING") ||
      covered.has(doc._id) ||
      isProxyGroup(doc.group)
    ) {
      continue;
    }
    (doc.playerSample ?? []).forEach((name, i) => {
      const uuid = doc.playerSampleIds?.[i] ?? "";
      if (uuid === "" || uuid === ANONYMOUS || covered.has(uuid)) return;
      covered.add(uuid);
      out.push({
        uuid,
        name,
        instanceId: doc._id,
        group: doc.group,
        proxyInstanceId: null,
        connectedAt: doc.playerSampleSince?.[i] ?? doc.reportedAt ?? doc.stateChangedAt,
        edition: "JAVA",
      });
    });
  }
  return out;
}

/** `pingedPlayers` over the store: serving instances with a sample, proxies told apart by platform. */
export function pingedPlayerSource(deps: {
  /** RUNNING and DRAINING instances, bounded (InstanceService.serving) */
  instances: { serving(): Promise<InstanceDoc[]> };
  groups: { resolved(name: string): Promise<{ platform: string }> };
}): (reported: readonly PlayerInfo[]) => Promise<PlayerInfo[]> {
  return async (reported) => {
    const live = (await deps.instances.serving()).filter((doc) => (doc.playerSample ?? []).length > 0);
    const proxies = new Set<string>();
    for (const group of new Set(live.map((doc) => doc.group))) {
      // A group that cannot be read is treated as a server: its sample is shown rather than lost.
      const spec = await deps.groups.resolved(group).catch(() => null);
      const format = spec ? configFormatOf(spec.platform) : undefined;
      if (format === "VELOCITY" || format === "BUNGEECORD") proxies.add(group);
    }
    return pingedPlayers(live, reported, (group) => proxies.has(group));
  };
}
