import { t as T } from "elysia";
import type { ControllerConfig } from "../../../config/controller-config.ts";
import type { Coordination } from "../../../coord/port.ts";
import { type Clock, systemClock } from "../../../core/clock.ts";
import { AppError } from "../../../core/errors.ts";
import { LoginLockout } from "../../auth/login-lockout.ts";
import type { TokenService } from "../../auth/token-service.ts";
import { toUserView, type UserService } from "../../auth/user-service.ts";
import { Iso, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { UserView } from "./user-routes.ts";

const TokenAnswer = T.Object({ token: T.String(), expiresAt: Iso });

export interface AuthRouteDeps {
  config: ControllerConfig;
  coord: Coordination;
  tokens: TokenService;
  users: UserService;
  clock?: Pick<Clock, "now">;
}

const Credentials = T.Object(
  {
    username: T.String({ minLength: 1, maxLength: 64 }),
    password: T.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export function authRoutes(table: RouteTable, deps: AuthRouteDeps): void {
  const lockout = new LoginLockout(deps.coord, deps.config.security.lockout);
  const clock = deps.clock ?? systemClock;

  const locked = (until: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil((until - clock.now()) / 1000));
    return new AppError("ACCOUNT_LOCKED", "too many failed logins; the account is locked for now", {
      lockedUntil: new Date(until).toISOString(),
      retryAfterSeconds,
    });
  };

  const tokenResponse = async (username: string, role: string) => {
    const { token, claims } = await deps.tokens.issue(username, role);
    return { token, expiresAt: new Date(claims.exp * 1000).toISOString() };
  };

  table
    .add({
      method: "POST",
      path: "/api/v1/auth/login",
      response: T.Object({ token: T.String(), expiresAt: Iso, user: UserView }),
      access: "public",
      tag: "auth",
      summary: "Log in with username and password; returns a JWT",
      body: Credentials,
      handler: async ({ body, ip }) => {
        const username = body.username.toLowerCase();
        const until = await lockout.lockedUntil(username, ip);
        if (until !== null) throw locked(until);
        const user = await deps.users.authenticate(username, body.password);
        if (!user) {
          const lockedNow = await lockout.recordFailure(username, ip);
          if (lockedNow !== null) throw locked(lockedNow);
          throw new AppError("UNAUTHORIZED", "invalid username or password");
        }
        await lockout.recordSuccess(username, ip);
        await deps.users.recordLogin(username);
        return {
          ...(await tokenResponse(user._id, user.role)),
          user: toUserView({ ...user, lastLoginAt: clock.now() }),
        };
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/auth/refresh",
      response: TokenAnswer,
      access: "authenticated",
      tag: "auth",
      summary: "A fresh token carrying the user's current role",
      handler: ({ caller }) => tokenResponse(caller.username, caller.role),
    })
    .add({
      method: "POST",
      path: "/api/v1/auth/logout",
      response: StatusAnswer("LOGGED_OUT"),
      access: "authenticated",
      tag: "auth",
      summary: "Revoke the token used for this call",
      handler: async ({ caller }) => {
        await deps.tokens.revoke(caller.claims);
        return { status: "LOGGED_OUT" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/auth/me",
      response: T.Composite([UserView, T.Object({ permissions: T.Array(T.String()) })]),
      access: "authenticated",
      tag: "auth",
      summary: "The calling user and its permissions",
      handler: async ({ caller }) => ({
        ...toUserView(await deps.users.require(caller.username)),
        permissions: [...caller.permissions].sort(),
      }),
    })
    .add({
      method: "POST",
      path: "/api/v1/auth/change-password",
      response: StatusAnswer("PASSWORD_CHANGED"),
      access: "authenticated",
      tag: "auth",
      summary: "Change the caller's password; revokes every token issued before",
      body: T.Object(
        {
          currentPassword: T.String({ minLength: 1, maxLength: 1024 }),
          newPassword: T.String({ minLength: 1, maxLength: 1024 }),
        },
        { additionalProperties: false },
      ),
      handler: async ({ caller, body, audit }) => {
        await deps.users.changePassword(caller.username, body.currentPassword, body.newPassword);
        await audit({ action: "user.password.change", resourceType: "user", resourceId: caller.username });
        return { status: "PASSWORD_CHANGED" };
      },
    });

  // Password reset needs a mail transport this build does not configure; the routes exist (they
  // are part of the public surface) and answer NOT_ENABLED, as the product does when reset is off.
  for (const step of ["request", "complete"] as const) {
    table.add({
      method: "POST",
      path: `/api/v1/auth/password-reset/${step}`,
      access: "public",
      tag: "auth",
      summary: `Password reset (${step}); disabled in this build`,
      response: "none",
      handler: () => {
        throw new AppError("NOT_FOUND", "password reset is not enabled", { reason: "NOT_ENABLED" });
      },
    });
  }
}
