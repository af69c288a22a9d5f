import { type Clock, systemClock } from "../../core/clock.ts";
import { isAppError } from "../../core/errors.ts";
import { CLUSTER_META } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { sealPrivateKey, unsealPrivateKey } from "../pki/key-seal.ts";

/** `cluster_meta` document that holds the sealed forwarding secret (backups carry it). */
export const FORWARDING_SECRET_ID = "forwarding-secret";
const FORWARDING_SEAL_PURPOSE = "velocity-forwarding-secret";

interface ForwardingSecretDoc extends Doc {
  /** 32 random bytes sealed under the cluster secret (AES-256-GCM, scrypt-derived key) */
  sealed: string;
  createdAt: number;
}

/**
 * The modern-forwarding secret Velocity proxies and their Paper backends share: generated once per
 * cluster on the first controller start and kept in the store sealed under the cluster secret,
 * like the JWT secret, because every controller must hand every instance the same one. It travels
 * to daemons only inside StartInstance (never in a plan, a log or the REST API).
 */
export async function resolveForwardingSecret(
  store: DurableStore,
  clusterSecret: string,
  options: { scryptLogN?: number; clock?: Pick<Clock, "now"> } = {},
): Promise<string> {
  const meta = store.collection<ForwardingSecretDoc>(CLUSTER_META);
  const existing = await meta.get(FORWARDING_SECRET_ID);
  if (existing?.sealed) {
    const bytes = await unsealPrivateKey(existing.sealed, clusterSecret, {
      purpose: FORWARDING_SEAL_PURPOSE,
    });
    return Buffer.from(bytes).toString("base64url");
  }
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const sealed = await sealPrivateKey(raw, clusterSecret, {
    purpose: FORWARDING_SEAL_PURPOSE,
    ...(options.scryptLogN !== undefined ? { scryptLogN: options.scryptLogN } : {}),
  });
  try {
    await meta.insert({ _id: FORWARDING_SECRET_ID, sealed, createdAt: (options.clock ?? systemClock).now() });
    return Buffer.from(raw).toString("base64url");
  } catch (err) {
    if (!isAppError(err, "DUPLICATE_KEY")) throw err;
    // Another controller generated it first: everyone uses that one.
    return resolveForwardingSecret(store, clusterSecret, options);
  }
}
