import type { Coordination } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import type { AuditLog } from "./audit-log.ts";

const LEASE_SCOPE = "audit-pruner";
const LEASE_TTL_MS = 60 * 60 * 1000;
const CHECK_EVERY_MS = 60 * 60 * 1000;

/**
 * Retention is pruned explicitly (no TTL indexes). One controller of the cluster does it, under
 * the `audit-pruner` lease, at start-up and then hourly.
 */
export function startAuditPruner(opts: {
  audit: AuditLog;
  coord: Coordination;
  controllerId: string;
  retentionDays: number;
  log: Logger;
}): () => void {
  const run = async () => {
    const lease = await opts.coord
      .acquireLease(LEASE_SCOPE, opts.controllerId, LEASE_TTL_MS)
      // coordination down: skip this round; pruning is idempotent and the next interval retries
      .catch(() => null);
    if (!lease) return;
    try {
      const removed = await opts.audit.prune(opts.retentionDays);
      if (removed > 0) opts.log.info({ removed, retentionDays: opts.retentionDays }, "pruned audit records");
    } catch (err) {
      opts.log.warn({ err }, "audit pruning failed; will retry");
    }
  };
  void run();
  const timer = setInterval(run, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
