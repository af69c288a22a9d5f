import { createHash, randomBytes } from "node:crypto";
import { systemClock } from "../../core/clock.ts";
import { isAppError } from "../../core/errors.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";

/** The plugin tokens of running instances. */
export const WORKLOAD_TOKENS = "workload_tokens" satisfies CollectionName;

export const WORKLOAD_TOKEN_TTL_MS = 15 * 60_000;
const TOKEN_SHAPE = /^ptk_[A-Za-z0-9_-]{43}$/;

/** `workload_tokens`, keyed by instance id: one live token per instance, only its hash stored. */
interface WorkloadTokenDoc extends Doc {
  group: string;
  tokenHash: string;
  issuedAt: number;
  expiresAt: number;
  /** highest X-Prexor-Sequence accepted for the instance */
  lastSequence: number;
  revokedAt: number | null;
}

export interface WorkloadIdentity {
  instanceId: string;
  group: string;
}

function hashOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Per-instance `ptk_` credentials for the cloud plugin: minted at placement, delivered only inside
 * StartInstance (never persisted in plain text), valid 15 minutes, rotated by refresh (an expired
 * token may refresh once within a grace equal to the TTL), and revoked when the instance ends.
 */
export class WorkloadTokens {
  constructor(
    private readonly store: DurableStore,
    private readonly now: () => number = systemClock.now,
    private readonly ttlMs = WORKLOAD_TOKEN_TTL_MS,
  ) {}

  private get col() {
    return this.store.collection<WorkloadTokenDoc>(WORKLOAD_TOKENS);
  }

  /** A fresh token for the instance; any previous one stops working. */
  async mint(identity: WorkloadIdentity): Promise<string> {
    const token = `ptk_${randomBytes(32).toString("base64url")}`;
    const now = this.now();
    const existing = await this.col.get(identity.instanceId);
    await this.col.put({
      _id: identity.instanceId,
      group: identity.group,
      tokenHash: hashOf(token),
      issuedAt: now,
      expiresAt: now + this.ttlMs,
      lastSequence: existing?.lastSequence ?? 0,
      revokedAt: null,
    });
    return token;
  }

  /** The instance the token belongs to, or null when it is malformed, unknown, expired or revoked. */
  async authenticate(token: string): Promise<WorkloadIdentity | null> {
    const doc = await this.find(token);
    if (!doc || doc.expiresAt <= this.now()) return null;
    return { instanceId: doc._id, group: doc.group };
  }

  /** Rotates a token that is valid or expired less than one TTL ago; null otherwise. */
  async refresh(token: string): Promise<{ token: string; expiresAt: number; instanceId: string } | null> {
    const doc = await this.find(token);
    if (!doc || doc.expiresAt + this.ttlMs <= this.now()) return null;
    const next = await this.mint({ instanceId: doc._id, group: doc.group });
    return { token: next, expiresAt: this.now() + this.ttlMs, instanceId: doc._id };
  }

  /**
   * Accepts `sequence` only if it is above every one accepted before for the instance. Optimistic
   * concurrency on the doc revision makes two racing requests with the same number accept once.
   */
  async acceptSequence(instanceId: string, sequence: number): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.col.get(instanceId);
      if (!doc || doc.revokedAt !== null || sequence <= doc.lastSequence) return false;
      try {
        if (await this.col.update(instanceId, { lastSequence: sequence }, { ifRev: doc._rev ?? 0 }))
          return true;
      } catch (err) {
        if (!isAppError(err, "CONFLICT")) throw err;
      }
    }
    return false;
  }

  async revoke(instanceId: string): Promise<void> {
    await this.col.update(instanceId, { revokedAt: this.now() });
  }

  private async find(token: string): Promise<WorkloadTokenDoc | null> {
    // Shape first: a forged value never reaches the store as a query.
    if (!TOKEN_SHAPE.test(token)) return null;
    const doc = await this.col.findOne({ tokenHash: hashOf(token) });
    return doc && doc.revokedAt === null ? doc : null;
  }
}
