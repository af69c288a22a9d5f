import { jwt } from "@elysiajs/jwt";
import type { Coordination } from "../../coord/port.ts";
import type { Doc, DurableStore } from "../../store/port.ts";

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
  secret: string;
  createdAt: number;
}

/**
 * The JWT signing secret every controller must share: the configured one, else one generated on
 * first start and kept in the durable store (never in logs, never in controller.yml).
 */
export async function resolveJwtSecret(configured: string, store: DurableStore): Promise<string> {
  if (configured !== "") return configured;
  const meta = store.collection<SecretDoc>("cluster_meta");
  const existing = await meta.get("jwt-secret");
  if (existing) return existing.secret;
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  try {
    await meta.insert({ _id: "jwt-secret", secret, createdAt: Date.now() });
    return secret;
  } catch {
    // Another controller won the race: use its secret.
    return (await meta.get("jwt-secret"))!.secret;
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
    private readonly now: () => number = Date.now,
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

  /** Claims of a valid, unexpired, unrevoked token; null for anything else. */
  async verify(token: string): Promise<TokenClaims | null> {
    for (const s of [this.current, ...this.previous]) {
      const payload = await s.verify(token).catch(() => false as const);
      if (!payload) continue;
      const { sub, role, iat, exp, jti } = payload as Partial<TokenClaims>;
      if (typeof sub !== "string" || typeof role !== "string" || typeof jti !== "string") return null;
      if (typeof exp !== "number" || exp * 1000 <= this.now() || typeof iat !== "number") return null;
      if (await this.coord.isRevoked("jwt", jti)) return null;
      return { sub, role, iat, exp, jti };
    }
    return null;
  }

  /** Revokes until the token would have expired anyway. */
  async revoke(claims: TokenClaims): Promise<void> {
    const remainingMs = claims.exp * 1000 - this.now();
    if (remainingMs > 0) await this.coord.revoke("jwt", claims.jti, remainingMs);
  }
}
