import { isIP } from "node:net";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import {
  type ClusterCa,
  createClusterCa,
  type IssuedServerCertificate,
  issueServerCertificate,
  loadClusterCa,
  sealPrivateKey,
  unsealPrivateKey,
} from "./index.ts";

/** The one cluster CA, shared by every controller through the durable store. */
export interface ClusterCaDoc extends Doc {
  certificatePem: string;
  /** PKCS#8 key sealed under the cluster secret (pki/key-seal.ts); useless without it. */
  sealedKey: string;
  fingerprint: string;
  clusterId: string;
  createdAt: number;
}

export const CLUSTER_FILES = "cluster_files" satisfies CollectionName;
export const CLUSTER_CA_ID = "cluster-ca";

export interface ClusterPki {
  readonly ca: ClusterCa;
  readonly clusterId: string;
}

/**
 * Loads the cluster CA, creating it on the very first boot of the cluster. Two controllers booting
 * an empty cluster at once both create one, but only the first insert wins; the loser discards its
 * own and loads the winner's, so every controller signs with the same key.
 */
export async function loadOrCreateClusterCa(
  store: DurableStore,
  clusterSecret: string,
  options: {
    now?: Date;
    clock?: Pick<Clock, "now">;
    clusterId?: string | null;
    log?: Logger;
    scryptLogN?: number;
  } = {},
): Promise<ClusterPki> {
  const files = store.collection<ClusterCaDoc>(CLUSTER_FILES);
  const existing = await files.get(CLUSTER_CA_ID);
  if (existing) return openStoredCa(existing, clusterSecret);

  const clusterId = options.clusterId ?? crypto.randomUUID();
  const now = options.now ?? new Date((options.clock ?? systemClock).now());
  const created = await createClusterCa({ now, clusterId });
  const sealedKey = await sealPrivateKey(created.privateKeyPkcs8, clusterSecret, {
    scryptLogN: options.scryptLogN,
  });
  created.privateKeyPkcs8.fill(0);
  try {
    await files.insert({
      _id: CLUSTER_CA_ID,
      certificatePem: created.ca.certificatePem,
      sealedKey,
      fingerprint: created.ca.fingerprint,
      clusterId,
      createdAt: now.getTime(),
    });
  } catch (err) {
    if (!isAppError(err, "DUPLICATE_KEY")) throw err;
    const winner = await files.get(CLUSTER_CA_ID);
    if (!winner) throw err;
    return openStoredCa(winner, clusterSecret);
  }
  options.log?.info({ fingerprint: created.ca.fingerprint, clusterId }, "cluster CA created");
  return { ca: created.ca, clusterId };
}

async function openStoredCa(doc: ClusterCaDoc, clusterSecret: string): Promise<ClusterPki> {
  let pkcs8: Uint8Array;
  try {
    pkcs8 = await unsealPrivateKey(doc.sealedKey, clusterSecret);
  } catch (cause) {
    throw new AppError(
      "CONFIG_INVALID",
      "cannot open the cluster CA key: security.clusterSecret differs from the one the cluster was " +
        "created with (every controller must use the same value)",
      { reason: "CLUSTER_SECRET_MISMATCH" },
      { cause },
    );
  }
  try {
    return { ca: await loadClusterCa(doc.certificatePem, pkcs8), clusterId: doc.clusterId };
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * This controller's TLS server certificate, issued fresh from the CA at every boot and kept in
 * memory only: nothing secret lands on disk, and daemons verify the shared controller name against
 * the cluster CA, so a new certificate per boot costs nothing.
 */
export function issueControllerCertificate(
  ca: ClusterCa,
  grpc: { host: string; advertiseHosts: readonly string[] },
  now = new Date(),
): Promise<IssuedServerCertificate> {
  const names = [...grpc.advertiseHosts];
  if (grpc.host !== "0.0.0.0" && grpc.host !== "::" && grpc.host !== "") names.push(grpc.host);
  const ipAddresses = names.filter((n) => isIP(n.replace(/^\[|\]$/g, "")) !== 0);
  const hostnames = names.filter((n) => isIP(n.replace(/^\[|\]$/g, "")) === 0);
  return issueServerCertificate(ca, {
    now,
    hostnames,
    ipAddresses: ipAddresses.map((ip) => ip.replace(/^\[|\]$/g, "")),
  });
}
