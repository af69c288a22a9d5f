import { t as T } from "elysia";
import { systemClock } from "../../../core/clock.ts";
import { AppError } from "../../../core/errors.ts";
import { type JoinTokenService, MAX_JOIN_TOKEN_TTL_SECONDS, toTokenView } from "../../nodes/join-tokens.ts";
import { listEnvelope, pageParams, pagingQuery } from "../paging.ts";
import { Nullable, NullableIso, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const TokenView = T.Object({
  tokenId: T.String(),
  nodeId: Nullable(T.String()),
  status: T.Union(["PENDING", "CONSUMED", "EXPIRED", "REVOKED"].map((s) => T.Literal(s))),
  createdAt: NullableIso,
  expiresAt: NullableIso,
  createdBy: T.String(),
  consumedAt: NullableIso,
  consumedByNode: Nullable(T.String()),
  revokedAt: NullableIso,
});

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `1h`, `7d` (the CLI's `--ttl`) → seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,7})([smhd])$/.exec(text.trim());
  if (!match) throw new AppError("INVALID_ARGUMENT", `ttl "${text}" is not a duration like 30m, 1h or 7d`);
  return Number(match[1]) * UNIT_SECONDS[match[2]!]!;
}

export function tokenRoutes(
  table: RouteTable,
  deps: { joinTokens: JoinTokenService; caFingerprint: string; now?: () => number },
): void {
  const { joinTokens } = deps;
  const now = deps.now ?? systemClock.now;
  table
    .add({
      method: "POST",
      path: "/api/v1/admin/tokens",
      response: T.Object({
        tokenId: T.String(),
        token: T.String(),
        nodeId: Nullable(T.String()),
        expiresAt: NullableIso,
        caFingerprint: T.String(),
      }),
      status: 201,
      access: "tokens.create",
      tag: "tokens",
      summary: "Create a single-use daemon join token (shown once)",
      body: T.Object(
        {
          nodeId: T.Optional(T.Union([T.String({ minLength: 1, maxLength: 253 }), T.Null()])),
          ttlSeconds: T.Optional(T.Integer({ maximum: MAX_JOIN_TOKEN_TTL_SECONDS })),
          ttl: T.Optional(T.String({ maxLength: 16 })),
        },
        { additionalProperties: false },
      ),
      handler: async ({ body, caller, set, audit }) => {
        const ttlSeconds = body.ttl !== undefined ? parseTtl(body.ttl) : body.ttlSeconds;
        const { doc, token } = await joinTokens.create({
          nodeId: body.nodeId ?? null,
          ttlSeconds,
          createdBy: caller.username,
        });
        const view = toTokenView(doc, now());
        await audit({ action: "token.create", resourceType: "join-token", resourceId: doc._id, after: view });
        set.status = 201;
        return {
          tokenId: doc._id,
          token,
          nodeId: doc.nodeId,
          expiresAt: view.expiresAt,
          caFingerprint: deps.caFingerprint,
        };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/admin/tokens",
      response: Paged(TokenView),
      access: "tokens.view",
      tag: "tokens",
      summary: "List join tokens (never the token itself)",
      query: pagingQuery(100),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const { data, total } = await joinTokens.list(page, pageSize);
        const at = now();
        return listEnvelope(
          data.map((d) => toTokenView(d, at)),
          page,
          pageSize,
          total,
        );
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/admin/tokens/:id",
      response: StatusAnswer("REVOKED"),
      access: "tokens.revoke",
      tag: "tokens",
      summary: "Revoke an unused join token",
      params: T.Object({ id: T.String({ pattern: "^[A-Za-z0-9_-]{1,64}$" }) }),
      handler: async ({ params, caller, audit }) => {
        const { before, after } = await joinTokens.revoke(params.id, caller.username);
        const at = now();
        await audit({
          action: "token.revoke",
          resourceType: "join-token",
          resourceId: params.id,
          before: toTokenView(before, at),
          after: toTokenView(after, at),
        });
        return { status: "REVOKED" };
      },
    });
}
