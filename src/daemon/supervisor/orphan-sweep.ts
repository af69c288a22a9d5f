import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { sep } from "node:path";
import { type Clock, systemClock } from "../../core/clock.ts";
import { isSameProcess, processStartTicks, signalPid } from "./proc-identity.ts";

export interface OrphanSweepOptions {
  readonly nodeId: string;
  readonly instancesDirectory: string;
  /** Pids this daemon manages (adopted workloads and their monitors). */
  readonly managed: ReadonlySet<number>;
  /** SIGTERM grace before SIGKILL. */
  readonly graceMs: number;
  /** paces the grace wait (system clock when absent) */
  readonly clock?: Clock;
  readonly log?: (fields: Record<string, unknown>, message: string) => void;
}

/** A process that carries this node's instance environment and runs in its instances directory. */
export interface OrphanProcess {
  readonly pid: number;
  readonly instanceId: string;
  readonly cwd: string;
}

/**
 * Workloads of this node that nobody manages: started by an earlier daemon whose records are gone or
 * unprovable (a reused pid, a monitor that died). They are recognised by the environment every
 * workload gets (CLOUD_NODE_ID, CLOUD_INSTANCE_ID) and a working directory inside this node's
 * instances directory, so another node's workloads on the same host are never touched.
 */
export function findOrphans(
  options: Pick<OrphanSweepOptions, "nodeId" | "instancesDirectory" | "managed">,
): OrphanProcess[] {
  const orphans: OrphanProcess[] = [];
  const root = options.instancesDirectory.endsWith(sep)
    ? options.instancesDirectory
    : options.instancesDirectory + sep;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    // no /proc (not Linux, or hidden): nothing can be identified, so nothing is swept
    return orphans;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || options.managed.has(pid)) continue;
    let environ: string;
    let cwd: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (!(cwd + sep).startsWith(root)) continue;
    const vars = environ.split("\0");
    if (!vars.includes(`CLOUD_NODE_ID=${options.nodeId}`)) continue;
    const instanceId = vars
      .find((v) => v.startsWith("CLOUD_INSTANCE_ID="))
      ?.slice("CLOUD_INSTANCE_ID=".length);
    if (instanceId === undefined) continue;
    orphans.push({ pid, instanceId, cwd });
  }
  return orphans;
}

/** Terminates every orphan (SIGTERM, then SIGKILL after the grace); resolves with what was found. */
export async function sweepOrphans(options: OrphanSweepOptions): Promise<OrphanProcess[]> {
  const orphans = findOrphans(options);
  if (orphans.length === 0) return orphans;
  const identities = orphans.map((o) => ({ pid: o.pid, startTicks: processStartTicks(o.pid) ?? -1 }));
  for (const orphan of orphans) {
    options.log?.(
      { pid: orphan.pid, instanceId: orphan.instanceId },
      "unmanaged workload found: terminating it",
    );
    signalPid(orphan.pid, "SIGTERM");
  }
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.graceMs;
  while (clock.now() < deadline && identities.some(isSameProcess)) await clock.sleep(50);
  for (const identity of identities) if (isSameProcess(identity)) signalPid(identity.pid, "SIGKILL");
  return orphans;
}
