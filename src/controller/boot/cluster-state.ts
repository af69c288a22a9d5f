import { resolve } from "node:path";
import type { ControllerConfig } from "../../config/controller-config.ts";
import type { Coordination } from "../../coord/port.ts";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore } from "../../store/port.ts";
import { resolveJwtSecret } from "../auth/token-service.ts";
import { BackupService } from "../backup/backup-service.ts";
import { ClusterWriteHold } from "../backup/cluster-hold.ts";
import { finishInterruptedRestore } from "../backup/interrupted-restore.ts";
import { unfinishedRestore } from "../backup/restore-runner.ts";
import type { WriteHold } from "../backup/write-hold.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { resolveForwardingSecret } from "../networks/forwarding-secret.ts";
import { type ClusterPki, loadOrCreateClusterCa } from "../pki/cluster-pki-store.ts";
import { resolveClusterSecret } from "../pki/cluster-secret.ts";
import type { StartSequence } from "./start-sequence.ts";

/** What the services are built with that the cluster shares through the store. */
export interface ClusterState {
  jwtSecret: string;
  /** the cluster CA, unsealed */
  pki: ClusterPki;
  forwardingSecret: string;
  backups: BackupService;
}

/**
 * The last of the open phase, before any service is constructed: the JWT secret, joining the
 * cluster's backup write hold, finishing a restore a crash interrupted, then the CA and the
 * forwarding secret. The hold is joined here, not in the start phase, because the secrets and the
 * restore already write; it is registered as opened so it is released on stop.
 */
export async function openClusterState(deps: {
  root: string;
  config: ControllerConfig;
  controllerId: string;
  /** the store without the write gate: backups read and restore under the hold itself */
  rawStore: DurableStore;
  store: DurableStore;
  writeGate: WriteHold;
  coord: Coordination;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** names the step readiness reports while it runs */
  phase: (name: string) => Promise<void>;
  sequence: Pick<StartSequence, "opened">;
}): Promise<ClusterState> {
  const { root, config, rawStore, store, coord, log, clock } = deps;
  await deps.phase("secrets");
  const clusterSecret = resolveClusterSecret(config, root);
  const jwtSecret = await resolveJwtSecret(config.security.jwtSecret, store, clusterSecret, log, clock);
  // The backup hold spans the cluster: this controller joins before any service of it writes.
  const clusterHold = new ClusterWriteHold({
    coord,
    local: deps.writeGate,
    self: deps.controllerId,
    cluster: rawStore.location,
    unfinishedRestore: () => unfinishedRestore(rawStore),
    log,
    clock,
  });
  await clusterHold.start();
  deps.sequence.opened("cluster write hold", () => clusterHold.stop());
  const backups = new BackupService({
    store: rawStore,
    coord,
    root,
    backupDir: resolve(root, config.backup.directory),
    retentionCount: config.backup.retentionCount,
    holder: deps.controllerId,
    gate: clusterHold,
    metrics: deps.metrics,
  });
  await finishInterruptedRestore(backups, deps.writeGate, log);
  // The cluster CA is shared through the store, sealed under the cluster secret; so is the one
  // modern-forwarding secret per cluster (in cluster_meta, like the JWT secret). Each costs a scrypt
  // derivation, which runs off the main thread: opened together rather than one after the other.
  await deps.phase("cluster CA");
  const [pki, forwardingSecret] = await Promise.all([
    loadOrCreateClusterCa(store, clusterSecret, { clusterId: config.cluster.id, clock, log }),
    resolveForwardingSecret(store, clusterSecret, { clock }),
  ]);
  return { jwtSecret, pki, forwardingSecret, backups };
}
