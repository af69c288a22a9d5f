import { systemClock } from "../../core/clock.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { joinTokenHash, mintJoinToken, parseJoinToken } from "../../wire/join-token.ts";
import { assertValidNodeId } from "../pki/index.ts";

export const JOIN_TOKENS = "join_tokens" satisfies CollectionName;
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
export const MAX_JOIN_TOKEN_TTL_SECONDS = 30 * 86_400;
/** Used, revoked and expired tokens stay listed this long, then are pruned. */
const RETAIN_SPENT_MS = 7 * 86_400_000;

export interface JoinTokenDoc extends Doc {
  /** SHA-256 of the token; the plaintext is never stored */
  hash: string;
  /** the node id the token is bound to, or null for "whatever the daemon asks for" */
  nodeId: string | null;
  createdAt: number;
  expiresAt: number;
  createdBy: string;
  consumedAt: number | null;
  consumedByNode: string | null;
  consumedFrom: string | null;
  revokedAt: number | null;
  revokedBy: string | null;
}

export type JoinTokenStatus = "PENDING" | "CONSUMED" | "EXPIRED" | "REVOKED";

export type RefusalReason = "malformed" | "unknown" | "expired" | "consumed" | "revoked";

/** Why a token was refused; logged by the controller, never told apart to the caller. */
export class JoinTokenRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly tokenId: string | null,
  ) {
    super(`join token refused: ${reason}`);
    this.name = "JoinTokenRefusal";
  }
}

export function statusOf(doc: JoinTokenDoc, now: number): JoinTokenStatus {
  if (doc.revokedAt !== null) return "REVOKED";
  if (doc.consumedAt !== null) return "CONSUMED";
  return doc.expiresAt <= now ? "EXPIRED" : "PENDING";
}

export function toTokenView(doc: JoinTokenDoc, now: number) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    tokenId: doc._id,
    nodeId: doc.nodeId,
    status: statusOf(doc, now),
    createdAt: iso(doc.createdAt),
    expiresAt: iso(doc.expiresAt),
    createdBy: doc.createdBy,
    consumedAt: iso(doc.consumedAt),
    consumedByNode: doc.consumedByNode,
    revokedAt: iso(doc.revokedAt),
  };
}

export interface NodeLookup {
  /** whether `nodeId` is enrolled with a certificate that still works, or connected */
  isEnrolled(nodeId: string): Promise<boolean>;
}

/**
 * Single-use, expiring join tokens. Only the SHA-256 of a token is stored and it is looked up by
 * that hash; the plaintext exists once, in the create response. Redeeming is check, then the
 * caller's work (CSR signing), then `consume`, which is an `ifRev` write: of two daemons racing with
 * one token exactly one wins, and a daemon whose CSR is bad has not burnt the token.
 */
export class JoinTokenService {
  constructor(
    private readonly store: DurableStore,
    private readonly caFingerprint: string,
    private readonly nodes: NodeLookup,
    private readonly now: () => number = systemClock.now,
  ) {}

  private get col() {
    return this.store.collection<JoinTokenDoc>(JOIN_TOKENS);
  }

  async create(input: { nodeId?: string | null; ttlSeconds?: number; createdBy: string }) {
    const now = this.now();
    const nodeId = input.nodeId?.trim() || null;
    const ttl =
      input.ttlSeconds === undefined || input.ttlSeconds <= 0
        ? DEFAULT_JOIN_TOKEN_TTL_SECONDS
        : input.ttlSeconds;
    if (ttl > MAX_JOIN_TOKEN_TTL_SECONDS) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `ttl may be at most ${MAX_JOIN_TOKEN_TTL_SECONDS} seconds (30 days)`,
      );
    }
    if (nodeId !== null) {
      assertValidNodeId(nodeId);
      if (await this.nodes.isEnrolled(nodeId)) {
        throw new AppError(
          "CONFLICT",
          `node "${nodeId}" is already enrolled; revoke its certificate first to re-enrol it`,
        );
      }
      const pending = await this.col.find({
        nodeId,
        revokedAt: null,
        consumedAt: null,
        expiresAt: { $gt: now },
      });
      if (pending.length > 0) {
        throw new AppError(
          "CONFLICT",
          `node "${nodeId}" already has a pending join token (${pending[0]!._id})`,
        );
      }
    }
    await this.prune();
    const token = mintJoinToken(this.caFingerprint);
    const doc = await this.col.insert({
      _id: `tok_${crypto.randomUUID()}`,
      hash: joinTokenHash(token),
      nodeId,
      createdAt: now,
      expiresAt: now + ttl * 1000,
      createdBy: input.createdBy,
      consumedAt: null,
      consumedByNode: null,
      consumedFrom: null,
      revokedAt: null,
      revokedBy: null,
    });
    return { doc, token };
  }

  async list(page: number, pageSize: number) {
    return findPage(this.col, {}, { page, pageSize }, [["createdAt", -1]]);
  }

  async revoke(id: string, by: string): Promise<{ before: JoinTokenDoc; after: JoinTokenDoc }> {
    const before = await this.col.get(id);
    if (!before)
      throw new AppError("NOT_FOUND", `join token "${id}" not found`, { reason: "TOKEN_NOT_FOUND" });
    const status = statusOf(before, this.now());
    if (status === "CONSUMED") throw new AppError("CONFLICT", `join token "${id}" was already used`);
    if (status === "REVOKED") return { before, after: before };
    const after = await this.col.update(id, { revokedAt: this.now(), revokedBy: by }, { ifRev: before._rev });
    if (!after) throw new AppError("NOT_FOUND", `join token "${id}" not found`);
    return { before, after };
  }

  /** The stored token for a plaintext, if it may still be redeemed; throws JoinTokenRefusal otherwise. */
  async check(token: string): Promise<JoinTokenDoc> {
    if (!parseJoinToken(token)) throw new JoinTokenRefusal("malformed", null);
    const doc = await this.col.findOne({ hash: joinTokenHash(token) });
    if (!doc) throw new JoinTokenRefusal("unknown", null);
    const status = statusOf(doc, this.now());
    if (status === "REVOKED") throw new JoinTokenRefusal("revoked", doc._id);
    if (status === "CONSUMED") throw new JoinTokenRefusal("consumed", doc._id);
    if (status === "EXPIRED") throw new JoinTokenRefusal("expired", doc._id);
    return doc;
  }

  /** Marks the token used; exactly one of several concurrent callers succeeds. */
  async consume(doc: JoinTokenDoc, nodeId: string, from: string): Promise<void> {
    try {
      const updated = await this.col.update(
        doc._id,
        { consumedAt: this.now(), consumedByNode: nodeId, consumedFrom: from },
        { ifRev: doc._rev },
      );
      if (!updated) throw new JoinTokenRefusal("unknown", doc._id);
    } catch (err) {
      if (isAppError(err, "CONFLICT")) throw new JoinTokenRefusal("consumed", doc._id);
      throw err;
    }
  }

  /** Spent tokens are kept a week for the listing, then removed. */
  prune(): Promise<number> {
    const cutoff = this.now() - RETAIN_SPENT_MS;
    return this.col.deleteMany({
      $or: [{ expiresAt: { $lt: cutoff } }, { consumedAt: { $lt: cutoff } }, { revokedAt: { $lt: cutoff } }],
    });
  }
}
