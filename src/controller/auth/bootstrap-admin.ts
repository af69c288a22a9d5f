import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Clock, systemClock } from "../../core/clock.ts";
import { isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { USERS } from "./user-service.ts";

export interface UserDoc extends Doc {
  passwordHash: string;
  role: string;
  email?: string;
  createdAt: number;
  lastLoginAt?: number | null;
  mustChangePassword?: boolean;
  /** epoch seconds (fractional); tokens issued before it are no longer accepted */
  tokensValidAfter?: number;
}

/** Argon2id with the documented cost: 64 MiB, 3 passes, one lane. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 65536, timeCost: 3 });
}

/** 24 characters from a 62-letter alphabet: about 143 bits. */
export function randomPassword(length = 24): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = "";
  for (const b of bytes) {
    // Rejection sampling keeps every letter equally likely.
    if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
    if (out.length === length) break;
  }
  return out.length === length ? out : randomPassword(length);
}

export interface BootstrapResult {
  created: boolean;
  /** only when this call created the admin with a generated password */
  password?: string;
  passwordFile?: string;
}

/**
 * First start: with no users at all, create `admin`. The password (configured, else random) is
 * written 0600 to the password file and never logged. Controllers racing on an empty store are
 * settled by the store's duplicate-key check: exactly one creates the admin.
 */
export async function ensureBootstrapAdmin(
  store: DurableStore,
  passwordFile: string,
  configuredPassword: string,
  log: Logger,
  clock: Pick<Clock, "now"> = systemClock,
): Promise<BootstrapResult> {
  const users = store.collection<UserDoc>(USERS);
  if ((await users.count()) > 0) return { created: false };
  const password = configuredPassword !== "" ? configuredPassword : randomPassword();
  try {
    await users.insert({
      _id: "admin",
      passwordHash: await hashPassword(password),
      role: "ADMIN",
      createdAt: clock.now(),
      lastLoginAt: null,
      tokensValidAfter: clock.now() / 1000,
      mustChangePassword: configuredPassword === "",
    });
  } catch (err) {
    if (isAppError(err, "DUPLICATE_KEY")) return { created: false };
    throw err;
  }
  mkdirSync(dirname(passwordFile), { recursive: true, mode: 0o700 });
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  log.info(
    { passwordFile },
    "created the bootstrap admin user 'admin'; its password is in the password file",
  );
  return { created: true, password: configuredPassword === "" ? password : undefined, passwordFile };
}
