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
