import { readdirSync, readFileSync } from "node:fs";

/**
 * Kills every process on this host that carries a node's workload environment (CLOUD_NODE_ID).
 * Workloads outlive a killed daemon by design, so an E2E test that SIGKILLs its daemons ends them
 * here; the id is unique to the test, so nothing else is touched.
 */
export function killNodeProcesses(nodeId: string): number {
  let killed = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(`CLOUD_NODE_ID=${nodeId}`)) {
        process.kill(Number(entry), "SIGKILL");
        killed++;
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return killed;
}

/**
 * Records the workload server processes of `nodeId` by placement, `<instanceId>@<placedAt>` → pids
 * seen: the node's own view of what ran, for "every placement ran one process" checks. Only the
 * server itself counts (argv[0] is this Bun and the flying-squid launcher is in its arguments), not
 * the monitor shell whose arguments name it too.
 */
export function serverProcesses(nodeId: string, launcher: string, into: Map<string, Set<number>>): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      if (argv[0] !== process.execPath || !argv.includes(launcher)) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (!env.includes(`CLOUD_NODE_ID=${nodeId}`)) continue;
      const id = env.find((e) => e.startsWith("CLOUD_INSTANCE_ID="))?.slice(18);
      const placed = env.find((e) => e.startsWith("CLOUD_PLACED_AT="))?.slice(16);
      const key = `${id}@${placed}`;
      const pids = into.get(key) ?? new Set<number>();
      into.set(key, pids);
      pids.add(Number(entry));
    } catch {
      // the process ended between the listing and the read: nothing of it to record
    }
  }
}

/** How often watchServerProcesses samples /proc: a sampling period, not a synchronisation. */
const WATCH_PERIOD_MS = 100;

/**
 * Samples `serverProcesses` of `nodeId` every WATCH_PERIOD_MS until `stop` resolves, keeping the
 * placements whose instance id starts with `prefix` (all when absent): what ran on the node during
 * a fault, for "one process per placement, none placed twice" checks.
 */
export function watchServerProcesses(
  nodeId: string,
  launcher: string,
  prefix = "",
): { seen: Map<string, Set<number>>; stop: () => Promise<void> } {
  const all = new Map<string, Set<number>>();
  const seen = new Map<string, Set<number>>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      serverProcesses(nodeId, launcher, all);
      for (const [key, pids] of all) if (key.startsWith(prefix)) seen.set(key, pids);
      await Bun.sleep(WATCH_PERIOD_MS);
    }
  })();
  return {
    seen,
    stop: async () => {
      watching = false;
      await watcher;
    },
  };
}
