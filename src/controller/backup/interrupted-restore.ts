import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { BackupService } from "./backup-service.ts";
import { interruptedReason } from "./cluster-hold.ts";
import type { WriteHold } from "./write-hold.ts";

/**
 * A restore that died half-way (its journal is still in the store) is finished before any service
 * reads or writes the store: this controller started it, so it holds the bundle and runs it again
 * (a restore is idempotent). Otherwise the controller does not start, and says why: serving a store
 * that never existed is worse than not serving.
 */
export async function finishInterruptedRestore(
  backups: BackupService,
  gate: WriteHold,
  log: Logger,
): Promise<void> {
  const unfinished = await backups.unfinishedRestore();
  if (!unfinished) return;
  gate.markInterrupted(interruptedReason(unfinished));
  log.warn(
    { bundle: unfinished.bundle, startedAt: unfinished.startedAt, phase: unfinished.phase },
    "a restore started and did not finish; running it again before serving",
  );
  const report = await backups.resumeUnfinished();
  if (!report) {
    throw new AppError(
      "UNAVAILABLE",
      `${interruptedReason(unfinished)}; controller ${unfinished.by ?? "(offline)"} started it and holds the bundle`,
      { bundle: unfinished.bundle },
    );
  }
  log.info(
    { bundle: report.bundle, documents: report.datastores.documents },
    "the interrupted restore was run again and finished",
  );
}
