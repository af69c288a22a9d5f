import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import type { RoleService } from "../../auth/role-service.ts";
import { toUserView, type UserService } from "../../auth/user-service.ts";
import { listEnvelope, pageOf, pageParams, pagingQuery } from "../paging.ts";
import { Iso, Nullable, NullableIso, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

/** A user as the API shows it (never the password hash). */
export const UserView = T.Object({
  username: T.String(),
  role: T.String(),
  email: Nullable(T.String()),
  createdAt: Iso,
  lastLoginAt: NullableIso,
  mustChangePassword: T.Boolean(),
});
const RoleView = T.Object({
  name: T.String(),
  permissions: T.Array(T.String()),
  builtIn: T.Boolean(),
  description: T.Optional(T.String()),
});

const Username = T.Object({ username: T.String({ pattern: "^[a-z0-9][a-z0-9._-]{1,31}$" }) });
const RoleName = T.Object({ name: T.String({ pattern: "^[A-Z][A-Z0-9_]{0,31}$" }) });
const Email = T.String({ format: "email", maxLength: 254 });
const PermissionList = T.Array(T.String({ maxLength: 64 }), { maxItems: 128 });

export function userRoutes(table: RouteTable, users: UserService, roles: RoleService): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/users",
      response: Paged(UserView),
      access: "users.view",
      tag: "users",
      summary: "List users",
      query: pagingQuery(200),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const { data, total } = await users.list(page, pageSize);
        return listEnvelope(data, page, pageSize, total);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/users",
      response: UserView,
      status: 201,
      access: "users.create",
      tag: "users",
      summary: "Create a user",
      body: T.Object(
        {
          username: T.String({ minLength: 2, maxLength: 32 }),
          password: T.String({ minLength: 8, maxLength: 1024 }),
          role: T.String({ pattern: "^[A-Z][A-Z0-9_]{0,31}$", default: "VIEWER" }),
          email: T.Optional(Email),
        },
        { additionalProperties: false },
      ),
      handler: async ({ body, set, audit }) => {
        const user = await users.create(body);
        await audit({ action: "user.create", resourceType: "user", resourceId: user.username, after: user });
        set.status = 201;
        return user;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/users/:username",
      response: UserView,
      access: "users.view",
      tag: "users",
      summary: "One user",
      params: Username,
      handler: async ({ params }) => toUserView(await users.require(params.username)),
    })
    .add({
      method: "PATCH",
      path: "/api/v1/users/:username",
      response: UserView,
      access: "users.update",
      tag: "users",
      summary: "Change a user's role, email or password",
      params: Username,
      body: T.Object(
        {
          role: T.Optional(T.String({ pattern: "^[A-Z][A-Z0-9_]{0,31}$" })),
          email: T.Optional(T.Union([Email, T.Null()])),
          password: T.Optional(T.String({ minLength: 8, maxLength: 1024 })),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      handler: async ({ params, body, audit }) => {
        const { before, after } = await users.update(params.username, body);
        await audit({
          action: "user.update",
          resourceType: "user",
          resourceId: params.username,
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/users/:username",
      response: StatusAnswer("DELETED"),
      access: "users.delete",
      tag: "users",
      summary: "Delete a user",
      params: Username,
      handler: async ({ params, caller, audit }) => {
        if (params.username === caller.username)
          throw new AppError("ILLEGAL_STATE", "you cannot delete yourself");
        const before = await users.delete(params.username);
        await audit({ action: "user.delete", resourceType: "user", resourceId: params.username, before });
        return { status: "DELETED" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/roles",
      response: Paged(RoleView),
      access: "roles.view",
      tag: "roles",
      summary: "List roles (built-in and custom)",
      query: pagingQuery(100),
      handler: async ({ query }) => {
        return pageOf(await roles.list(), query);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/roles",
      response: RoleView,
      status: 201,
      access: "roles.manage",
      tag: "roles",
      summary: "Create a custom role",
      body: T.Object(
        {
          name: T.String({ minLength: 1, maxLength: 32 }),
          permissions: PermissionList,
          description: T.Optional(T.String({ maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
      handler: async ({ body, set, audit }) => {
        const role = await roles.create(body.name, body.permissions, body.description);
        await audit({ action: "role.create", resourceType: "role", resourceId: role.name, after: role });
        set.status = 201;
        return role;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/roles/:name",
      response: RoleView,
      access: "roles.view",
      tag: "roles",
      summary: "One role",
      params: RoleName,
      handler: ({ params }) => roles.get(params.name),
    })
    .add({
      method: "PATCH",
      path: "/api/v1/roles/:name",
      response: RoleView,
      access: "roles.manage",
      tag: "roles",
      summary: "Change a custom role; applies to its users at once",
      params: RoleName,
      body: T.Object(
        { permissions: T.Optional(PermissionList), description: T.Optional(T.String({ maxLength: 200 })) },
        { additionalProperties: false, minProperties: 1 },
      ),
      handler: async ({ params, body, audit }) => {
        const { before, after } = await roles.update(params.name, body);
        await audit({ action: "role.update", resourceType: "role", resourceId: params.name, before, after });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/roles/:name",
      response: StatusAnswer("DELETED"),
      access: "roles.manage",
      tag: "roles",
      summary: "Delete a custom role no user holds",
      params: RoleName,
      handler: async ({ params, audit }) => {
        const before = await roles.delete(params.name, await users.countWithRole(params.name));
        await audit({ action: "role.delete", resourceType: "role", resourceId: params.name, before });
        return { status: "DELETED" };
      },
    });
}
