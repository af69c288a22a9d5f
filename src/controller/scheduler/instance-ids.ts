import type { FleetIndex } from "./fleet-index.ts";
import type { SchedGroup } from "./types.ts";

/** `{group}-{N}` with N a positive integer written without leading zeros. */
export function isSequentialId(id: string, group: string): boolean {
  const start = group.length + 1;
  if (id.length <= start || id.charCodeAt(group.length) !== 45 || !id.startsWith(group)) return false;
  if (id.charCodeAt(start) === 48) return false;
  for (let k = start; k < id.length; k++) {
    const c = id.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The deterministic IDs of a STATIC group: declared names, else `{group}-1 … {group}-{min}`. */
export function staticNames(group: SchedGroup): readonly string[] {
  if (group.scalingMode !== "STATIC") return [];
  if (group.staticInstanceNames.length > 0) return group.staticInstanceNames;
  return Array.from({ length: Math.max(0, group.minInstances) }, (_, k) => `${group.name}-${k + 1}`);
}

/**
 * IDs for new instances: a STATIC group's declared names first, then `{group}-{N}` with the lowest N not
 * taken (gap filling). Taken means held by a live instance of any group (IDs are global). A terminal
 * record does not hold its ID: a STATIC group must get `lobby-1` back after `lobby-1` crashed, so the
 * store overwrites the old record when the new one is written.
 *
 * Sequential IDs of two different groups can never be equal, so a new sequential ID can only clash
 * with the group's own IDs or with an irregular one (a declared static name, a foreign record). Those
 * small sets are built on the first placement; the set of every live ID only if an irregular name is
 * handed out.
 */
export class InstanceIds {
  private readonly own = new Map<string, Set<string>>();
  private readonly cursor = new Map<string, number>();
  /** Every ID handed out this tick, whichever group got it. */
  private readonly issued = new Set<string>();
  private irregular: Set<string> | undefined;
  private everyId: Set<string> | undefined;

  constructor(private readonly index: FleetIndex) {}

  next(group: SchedGroup): string {
    const own = this.ownIds(group.name);
    for (const name of staticNames(group)) {
      if (this.isFree(name, group.name, own)) return this.claim(name, own);
    }
    let n = this.cursor.get(group.name) ?? 1;
    while (!this.isFree(`${group.name}-${n}`, group.name, own)) n++;
    this.cursor.set(group.name, n + 1);
    return this.claim(`${group.name}-${n}`, own);
  }

  private isFree(id: string, group: string, own: Set<string>): boolean {
    if (own.has(id) || this.issued.has(id) || this.irregularIds().has(id)) return false;
    return isSequentialId(id, group) || !this.allIds().has(id);
  }

  private claim(id: string, own: Set<string>): string {
    own.add(id);
    this.issued.add(id);
    return id;
  }

  private ownIds(group: string): Set<string> {
    let own = this.own.get(group);
    if (own === undefined) {
      own = new Set(this.index.instancesOf(group).live.map((i) => i.id));
      this.own.set(group, own);
    }
    return own;
  }

  private irregularIds(): Set<string> {
    if (this.irregular === undefined) {
      this.irregular = new Set();
      for (const [group, entry] of this.index.byGroup) {
        for (const i of entry.live) if (!isSequentialId(i.id, group)) this.irregular.add(i.id);
      }
    }
    return this.irregular;
  }

  private allIds(): Set<string> {
    if (this.everyId === undefined) {
      this.everyId = new Set();
      for (const entry of this.index.byGroup.values()) for (const i of entry.live) this.everyId.add(i.id);
    }
    return this.everyId;
  }
}
