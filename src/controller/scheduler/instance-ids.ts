import type { SchedGroup, SchedInstance } from "./types.ts";

/**
 * IDs for new instances: a STATIC group's declared names first, then `{group}-{N}` with the lowest N not
 * taken (gap filling). Taken means any instance record still present, terminal ones included, since the
 * store keeps those for a while and IDs are unique across groups.
 */
export class InstanceIds {
  private taken: Set<string> | undefined;
  private readonly cursor = new Map<string, number>();

  constructor(private readonly instances: readonly SchedInstance[]) {}

  next(group: SchedGroup): string {
    const taken = this.takenIds();
    if (group.scalingMode === "STATIC") {
      for (const name of group.staticInstanceNames) {
        if (!taken.has(name)) return this.claim(taken, name);
      }
    }
    let n = this.cursor.get(group.name) ?? 1;
    while (taken.has(`${group.name}-${n}`)) n++;
    this.cursor.set(group.name, n + 1);
    return this.claim(taken, `${group.name}-${n}`);
  }

  private claim(taken: Set<string>, id: string): string {
    taken.add(id);
    return id;
  }

  /** Built on first use: a tick that places nothing never pays for it. */
  private takenIds(): Set<string> {
    if (this.taken === undefined) this.taken = new Set(this.instances.map((i) => i.id));
    return this.taken;
  }
}
