import { AppError } from "../../core/errors.ts";
import type { Permission } from "../../core/permissions.ts";
import type { RoleService } from "../auth/role-service.ts";
import { issuedAtMs, type TokenService } from "../auth/token-service.ts";
import type { UserService } from "../auth/user-service.ts";
import type { Access, Caller } from "./route-table.ts";

export interface AuthDeps {
  tokens: TokenService;
  users: UserService;
  roles: RoleService;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/;

/**
 * Resolves the operator behind a request from its bearer token. The role comes from the user
 * record, not the token, so a role change or deletion applies to tokens already issued.
 */
export async function resolveCaller(request: Request, deps: AuthDeps): Promise<Caller> {
  const match = BEARER.exec(request.headers.get("authorization") ?? "");
  if (!match) throw new AppError("UNAUTHORIZED", "a bearer token is required");
  const method = request.method;
  const claims = await deps.tokens.verify(match[1]!, { readOnly: method === "GET" || method === "HEAD" });
  if (!claims) throw new AppError("UNAUTHORIZED", "the token is invalid, expired or revoked");
  const user = await deps.users.get(claims.sub);
  if (!user) throw new AppError("UNAUTHORIZED", "the token's user no longer exists");
  if (user.tokensValidAfter !== undefined && issuedAtMs(claims) < user.tokensValidAfter * 1000) {
    throw new AppError("UNAUTHORIZED", "the token was revoked by a password change");
  }
  return {
    username: user._id,
    role: user.role,
    permissions: await deps.roles.permissionsOf(user.role),
    claims,
    mustChangePassword: user.mustChangePassword === true,
  };
}

export function requiresCaller(access: Access): boolean {
  return access !== "public" && access !== "ticket" && access !== "workload";
}

/** What an account that must change its password may still do. */
const PASSWORD_CHANGE_EXEMPT = new Set([
  "POST /api/v1/auth/change-password",
  "GET /api/v1/auth/me",
  "POST /api/v1/auth/logout",
]);

/** The bootstrap admin (generated password) works only after choosing its own password. */
export function checkPasswordChange(method: string, path: string, caller: Caller): void {
  if (caller.mustChangePassword && !PASSWORD_CHANGE_EXEMPT.has(`${method} ${path}`)) {
    throw new AppError(
      "PASSWORD_CHANGE_REQUIRED",
      "this account must change its password first: POST /api/v1/auth/change-password",
    );
  }
}

export function checkAccess(access: Access, caller: Caller): void {
  if (access === "authenticated" || !requiresCaller(access)) return;
  if (!caller.permissions.has(access as Permission)) {
    throw new AppError("FORBIDDEN", "insufficient permissions", { required: access });
  }
}
