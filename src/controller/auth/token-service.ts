import { jwt } from "@elysiajs/jwt";
import type { Coordination } from "../../coord/port.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { CLUSTER_META } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { sealPrivateKey, unsealPrivateKey } from "../pki/key-seal.ts";

export interface TokenClaims {
  sub: string;
  role: string;
  iat: number;
  exp: number;
  jti: string;
}

interface Signer {
  sign(claims: Record<string, string | number>): Promise<string>;
  verify(token?: string): Promise<Record<string, unknown> | false>;
}

function signer(secret: string): Signer {
  // The plugin's decorator is a plain {sign, verify} pair; using it directly keeps one JWT
  // implementation for both the HTTP layer and anything else that mints tokens.
  const plugin = jwt({ name: "jwt", secret: Buffer.from(secret, "base64"), alg: "HS256" });
  return (plugin as unknown as { decorator: { jwt: Signer } }).decorator.jwt;
}

interface SecretDoc extends Doc {
  /** the secret sealed under the cluster secret (AES-256-GCM, scrypt-derived key) */
  sealed?: string;
  /** written by builds before sealing; replaced by `sealed` on the next start */
  secret?: string;
  createdAt: number;
}

const JWT_SEAL_PURPOSE = "jwt-signing-secret";
const JWT_SECRET_ID = "jwt-secret";

/**
 * The JWT signing secret every controller must share: the configured one, else one generated on
 * first start and kept in the durable store, sealed under the cluster secret the way the CA key
 * is (a copy of prexor.db alone no longer lets anyone mint admin tokens). It is kept in the store
 * rather than in a 0600 file because every controller of a cluster must sign with the same key:
 * the store is what they share, and the cluster secret is what they already each hold.
 * Never in logs, never in controller.yml.
 */
export async function resolveJwtSecret(
  configured: string,
  store: DurableStore,
  clusterSecret: string,
  log?: Logger,
  clock: Pick<Clock, "now"> = systemClock,
): Promise<string> {
  if (configured !== "") return configured;
  const meta = store.collection<SecretDoc>(CLUSTER_META);
  const existing = await meta.get(JWT_SECRET_ID);
  if (existing?.sealed) {
    const bytes = await unsealPrivateKey(existing.sealed, clusterSecret, { purpose: JWT_SEAL_PURPOSE });
    return Buffer.from(bytes).toString("base64");
  }
  if (existing?.secret) {
    const sealed = await sealPrivateKey(Buffer.from(existing.secret, "base64"), clusterSecret, {
      purpose: JWT_SEAL_PURPOSE,
    });
    await meta.put({ _id: JWT_SECRET_ID, sealed, createdAt: existing.createdAt });
    log?.warn(
      {},
      "the JWT signing secret was stored in plaintext; it is now sealed under the cluster secret",
    );
    return existing.secret;
  }
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const sealed = await sealPrivateKey(raw, clusterSecret, { purpose: JWT_SEAL_PURPOSE });
  try {
    await meta.insert({ _id: JWT_SECRET_ID, sealed, createdAt: clock.now() });
    return Buffer.from(raw).toString("base64");
  } catch (err) {
    if (!isAppError(err, "DUPLICATE_KEY")) throw err;
    // Another controller won the race: use its secret.
    return resolveJwtSecret(configured, store, clusterSecret, log, clock);
  }
}

/** The `alg` a compact JWT's header names, or null when it has no readable header. */
function headerAlg(token: string): string | null {
  const head = token.split(".")[0];
  if (!head || head.length > 512) return null;
  try {
    const header = JSON.parse(Buffer.from(head, "base64url").toString("utf8")) as { alg?: unknown };
    return typeof header.alg === "string" ? header.alg : null;
  } catch {
    // Not base64url JSON: not a token we issued.
    return null;
  }
}

/** Issue time in ms: from the jti when it carries one, else from iat. */
export function issuedAtMs(claims: TokenClaims): number {
  const prefix = claims.jti.split(".")[0] ?? "";
  const ms = Number.parseInt(prefix, 36);
  return claims.jti.includes(".") && Number.isFinite(ms) && Math.abs(ms / 1000 - claims.iat) < 2
    ? ms
    : claims.iat * 1000;
}

/** HS256 tokens with `sub, role, iat, exp, jti`; previous secrets still verify during rotation. */
export class TokenService {
  private readonly current: Signer;
  private readonly previous: Signer[];

  constructor(
    secret: string,
    previousSecrets: string[],
    private readonly lifetimeSeconds: number,
    private readonly coord: Coordination,
    private readonly now: () => number = systemClock.now,
  ) {
    this.current = signer(secret);
    this.previous = previousSecrets.map(signer);
  }

  async issue(username: string, role: string): Promise<{ token: string; claims: TokenClaims }> {
    const iat = Math.floor(this.now() / 1000);
    const claims: TokenClaims = {
      sub: username,
      role,
      iat,
      exp: iat + this.lifetimeSeconds,
      // The jti is opaque to clients; ours starts with the issue time in milliseconds so "revoke
      // everything issued before this password change" can separate tokens minted in one second.
      jti: `${this.now().toString(36)}.${crypto.randomUUID()}`,
    };
    return { token: await this.current.sign({ ...claims }), claims };
  }

  /**
   * Claims of a valid, unexpired, unrevoked token; null for anything else. Revocations (logout)
   * live in the coordination store; with `readOnly` a request whose revocation cannot be checked
   * because that store is down is let through (reads keep working in an outage, bounded by the
   * token's expiry; password changes and deleted users are still enforced from the durable
   * store). Anything that mutates fails closed with COORDINATION_UNAVAILABLE.
   */
  async verify(token: string, options: { readOnly?: boolean } = {}): Promise<TokenClaims | null> {
    // Only HS256: the library accepts any HMAC size the header names (HS384/HS512 verified too).
    if (headerAlg(token) !== "HS256") return null;
    for (const s of [this.current, ...this.previous]) {
      const payload = await s.verify(token).catch(() => false as const);
      if (!payload) continue;
      const { sub, role, iat, exp, jti } = payload as Partial<TokenClaims>;
      if (typeof sub !== "string" || typeof role !== "string" || typeof jti !== "string") return null;
      if (typeof exp !== "number" || exp * 1000 <= this.now() || typeof iat !== "number") return null;
      if (await this.isRevoked(jti, options.readOnly === true)) return null;
      return { sub, role, iat, exp, jti };
    }
    return null;
  }

  private async isRevoked(jti: string, readOnly: boolean): Promise<boolean> {
    try {
      return await this.coord.isRevoked("jwt", jti);
    } catch (err) {
      if (readOnly && isAppError(err, "COORDINATION_UNAVAILABLE")) return false;
      throw err;
    }
  }

  /** Revokes until the token would have expired anyway. */
  async revoke(claims: TokenClaims): Promise<void> {
    const remainingMs = claims.exp * 1000 - this.now();
    if (remainingMs > 0) await this.coord.revoke("jwt", claims.jti, remainingMs);
  }
}
