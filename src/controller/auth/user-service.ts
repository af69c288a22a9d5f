import { unlinkSync } from "node:fs";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { DurableStore } from "../../store/port.ts";
import { hashPassword, type UserDoc } from "./bootstrap-admin.ts";
import type { RoleService } from "./role-service.ts";

/** The operator accounts. */
export const USERS = "users" satisfies CollectionName;

export interface UserView {
  username: string;
  role: string;
  email: string | null;
  createdAt: string;
  lastLoginAt: string | null;
  /** until it is changed, every route but change-password, me and logout answers 403 */
  mustChangePassword: boolean;
}

export const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
export const MIN_PASSWORD_LENGTH = 8;

/** A constant-cost answer for unknown users, so login timing does not reveal which names exist. */
let dummyHash: Promise<string> | undefined;

export class UserService {
  constructor(
    private readonly store: DurableStore,
    private readonly roles: RoleService,
    private readonly initialPasswordFile: string,
    private readonly clock: Clock = systemClock,
  ) {}

  private get users() {
    return this.store.collection<UserDoc>(USERS);
  }

  get(username: string): Promise<UserDoc | null> {
    return USERNAME.test(username) ? this.users.get(username) : Promise.resolve(null);
  }

  async require(username: string): Promise<UserDoc> {
    const user = await this.get(username);
    if (!user) throw new AppError("NOT_FOUND", `user "${username}" not found`);
    return user;
  }

  /** The user when the password matches; null otherwise (same cost either way). */
  async authenticate(username: string, password: string): Promise<UserDoc | null> {
    const user = await this.get(username);
    if (!user) {
      dummyHash ??= hashPassword(crypto.randomUUID());
      // a verify error counts as a mismatch; the call is here only to spend the same time
      await Bun.password.verify(password, await dummyHash).catch(() => false);
      return null;
    }
    // a malformed stored hash fails closed: no match
    return (await Bun.password.verify(password, user.passwordHash).catch(() => false)) ? user : null;
  }

  async recordLogin(username: string): Promise<void> {
    await this.users.update(username, { lastLoginAt: this.clock.now() });
  }

  async list(page: number, pageSize: number): Promise<{ data: UserView[]; total: number }> {
    const { data, total } = await findPage(this.users, {}, { page, pageSize }, [["_id", 1]]);
    return { data: data.map(toUserView), total };
  }

  countWithRole(role: string): Promise<number> {
    return this.users.count({ role });
  }

  async create(input: {
    username: string;
    password: string;
    role: string;
    email?: string;
  }): Promise<UserView> {
    if (!USERNAME.test(input.username)) {
      throw new AppError("INVALID_ARGUMENT", "usernames are 2–32 characters: a–z, 0–9, '.', '_' and '-'", {
        username: input.username,
      });
    }
    checkPassword(input.password);
    if (!(await this.roles.exists(input.role)))
      throw new AppError("INVALID_ARGUMENT", `role "${input.role}" does not exist`);
    const doc = await this.users
      .insert({
        _id: input.username,
        passwordHash: await hashPassword(input.password),
        role: input.role,
        ...(input.email ? { email: input.email.toLowerCase() } : {}),
        createdAt: this.clock.now(),
        lastLoginAt: null,
        // A token minted for an earlier user of the same name (deleted, then re-created) must
        // not work for this one.
        tokensValidAfter: this.clock.now() / 1000,
      })
      .catch(conflictOnDuplicate(`a user with that name or email already exists`));
    return toUserView(doc);
  }

  async update(username: string, patch: { role?: string; email?: string | null; password?: string }) {
    const before = await this.require(username);
    if (patch.role !== undefined && !(await this.roles.exists(patch.role))) {
      throw new AppError("INVALID_ARGUMENT", `role "${patch.role}" does not exist`);
    }
    if (patch.role !== undefined && before.role === "ADMIN" && patch.role !== "ADMIN")
      await this.keepOneAdmin(username);
    const set: Partial<UserDoc> = {};
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.email) set.email = patch.email.toLowerCase();
    if (patch.password !== undefined) {
      checkPassword(patch.password);
      set.passwordHash = await hashPassword(patch.password);
      set.tokensValidAfter = this.clock.now() / 1000;
    }
    const after = await this.users
      .update(username, set, patch.email === null ? { unset: ["email"] } : {})
      .catch(conflictOnDuplicate("that email is already in use"));
    if (!after) throw new AppError("NOT_FOUND", `user "${username}" not found`);
    return { before: toUserView(before), after: toUserView(after) };
  }

  async delete(username: string): Promise<UserView> {
    const user = await this.require(username);
    if (user.role === "ADMIN") await this.keepOneAdmin(username);
    await this.users.delete(username);
    return toUserView(user);
  }

  /**
   * Changes a password after checking the current one. Every token issued before now stops
   * working; changing `admin`'s removes the bootstrap password file.
   */
  async changePassword(username: string, current: string, next: string): Promise<void> {
    const user = await this.authenticate(username, current);
    if (!user) throw new AppError("UNAUTHORIZED", "current password is wrong");
    checkPassword(next);
    if (current === next)
      throw new AppError("INVALID_ARGUMENT", "the new password must differ from the current one");
    await this.users.update(username, {
      passwordHash: await hashPassword(next),
      tokensValidAfter: this.clock.now() / 1000,
      mustChangePassword: false,
    });
    if (username === "admin") {
      try {
        unlinkSync(this.initialPasswordFile);
      } catch {
        // already gone
      }
    }
  }

  private async keepOneAdmin(username: string): Promise<void> {
    const admins = await this.users.count({ role: "ADMIN" });
    if (admins <= 1)
      throw new AppError("ILLEGAL_STATE", `"${username}" is the last ADMIN; create another first`);
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError("INVALID_ARGUMENT", `passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

export function toUserView(doc: UserDoc): UserView {
  return {
    username: doc._id,
    role: doc.role,
    email: doc.email ?? null,
    createdAt: new Date(doc.createdAt).toISOString(),
    lastLoginAt: doc.lastLoginAt ? new Date(doc.lastLoginAt).toISOString() : null,
    mustChangePassword: doc.mustChangePassword === true,
  };
}
