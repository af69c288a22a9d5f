import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import {
  BUILT_IN_ROLES,
  isBuiltInRole,
  isPermission,
  type Permission,
  ROLE_NAME,
} from "../../core/permissions.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";

/** The custom roles (the built-in ones are code). */
export const ROLES = "roles" satisfies CollectionName;

export interface RoleDoc extends Doc {
  permissions: string[];
  description?: string;
  createdAt: number;
}

export interface RoleView {
  name: string;
  permissions: string[];
  builtIn: boolean;
  description?: string;
}

/** Built-in roles live in code (immutable); custom roles in the store, validated at write. */
export class RoleService {
  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock = systemClock,
  ) {}

  private get roles() {
    return this.store.collection<RoleDoc>(ROLES);
  }

  /** Permissions of a role right now; unknown roles grant nothing. */
  async permissionsOf(role: string): Promise<ReadonlySet<Permission>> {
    const builtIn = BUILT_IN_ROLES[role];
    if (builtIn) return new Set(builtIn);
    const doc = await this.roles.get(role);
    return new Set((doc?.permissions ?? []).filter(isPermission));
  }

  async exists(role: string): Promise<boolean> {
    return isBuiltInRole(role) || (await this.roles.get(role)) !== null;
  }

  async list(): Promise<RoleView[]> {
    const builtIns = Object.entries(BUILT_IN_ROLES).map(([name, p]) => ({
      name,
      permissions: [...p],
      builtIn: true,
    }));
    const custom = (await this.roles.find({}, { sort: [["_id", 1]] })).map((d) => toView(d));
    return [...builtIns, ...custom];
  }

  async get(name: string): Promise<RoleView> {
    const builtIn = BUILT_IN_ROLES[name];
    if (builtIn) return { name, permissions: [...builtIn], builtIn: true };
    const doc = await this.roles.get(name);
    if (!doc) throw new AppError("NOT_FOUND", `role "${name}" not found`);
    return toView(doc);
  }

  async create(name: string, permissions: string[], description?: string): Promise<RoleView> {
    if (!ROLE_NAME.test(name)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        "role names are 1–32 characters: A–Z, 0–9 and _, starting with a letter",
        { name },
      );
    }
    if (isBuiltInRole(name)) throw new AppError("CONFLICT", `"${name}" is a built-in role`);
    const doc = await this.roles
      .insert({
        _id: name,
        permissions: checkPermissions(permissions),
        description,
        createdAt: this.clock.now(),
      })
      .catch(conflictOnDuplicate(`role "${name}" already exists`));
    return toView(doc);
  }

  async update(
    name: string,
    patch: { permissions?: string[]; description?: string },
  ): Promise<{ before: RoleView; after: RoleView }> {
    if (isBuiltInRole(name)) throw new AppError("CONFLICT", `built-in role "${name}" cannot be changed`);
    const before = await this.get(name);
    const updated = await this.roles.update(name, {
      ...(patch.permissions ? { permissions: checkPermissions(patch.permissions) } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
    });
    if (!updated) throw new AppError("NOT_FOUND", `role "${name}" not found`);
    return { before, after: toView(updated) };
  }

  async delete(name: string, usersWithRole: number): Promise<RoleView> {
    if (isBuiltInRole(name)) throw new AppError("CONFLICT", `built-in role "${name}" cannot be deleted`);
    if (usersWithRole > 0)
      throw new AppError("CONFLICT", `role "${name}" is assigned to ${usersWithRole} user(s)`);
    const before = await this.get(name);
    await this.roles.delete(name);
    return before;
  }
}

function checkPermissions(permissions: string[]): Permission[] {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length > 0)
    throw new AppError("INVALID_ARGUMENT", `unknown permission(s): ${unknown.join(", ")}`, { unknown });
  return [...new Set(permissions as Permission[])].sort();
}

function toView(doc: RoleDoc): RoleView {
  return {
    name: doc._id,
    permissions: doc.permissions,
    builtIn: false,
    ...(doc.description ? { description: doc.description } : {}),
  };
}
