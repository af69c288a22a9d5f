import type { Coordination, LoginLockPolicy } from "../../coord/port.ts";

export interface LockoutSettings {
  enabled: boolean;
  /** failures from one source address before the account is locked for that address */
  maxAttempts: number;
  /** failures from all addresses together before the account is locked everywhere */
  accountMaxAttempts: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

/**
 * Login lockout that an attacker cannot turn against the operator. Failures are counted twice:
 * per (account, source address), which locks only that address after `maxAttempts`; and per
 * account, which locks every address only after the much higher `accountMaxAttempts`. Five bad
 * passwords from anywhere no longer lock `admin` out for everyone; a distributed guess is still
 * capped. `prexor admin unlock <user>` on the controller host lifts the account-wide lock.
 */
export class LoginLockout {
  private readonly perSource: LoginLockPolicy;
  private readonly perAccount: LoginLockPolicy;

  constructor(
    private readonly coord: Coordination,
    private readonly settings: LockoutSettings,
  ) {
    const windowMs = settings.windowSeconds * 1000;
    const lockMs = settings.lockoutSeconds * 1000;
    this.perSource = { maxAttempts: settings.maxAttempts, windowMs, lockMs };
    this.perAccount = { maxAttempts: settings.accountMaxAttempts, windowMs, lockMs };
  }

  /** The coordination keys: the account alone, and the account with one source address. */
  private static keys(username: string, ip: string): { account: string; source: string } {
    return { account: username, source: `${username}@${ip}` };
  }

  /** Epoch ms until which this (account, address) may not log in, or null. */
  async lockedUntil(username: string, ip: string): Promise<number | null> {
    if (!this.settings.enabled) return null;
    const { account, source } = LoginLockout.keys(username, ip);
    const [a, s] = await Promise.all([
      this.coord.loginLockedUntil(account),
      this.coord.loginLockedUntil(source),
    ]);
    if (a === null) return s;
    return s === null ? a : Math.max(a, s);
  }

  /** Counts a failure; returns the lock it tipped into, if any. */
  async recordFailure(username: string, ip: string): Promise<number | null> {
    if (!this.settings.enabled) return null;
    const { account, source } = LoginLockout.keys(username, ip);
    const [a, s] = await Promise.all([
      this.coord.recordLoginFailure(account, this.perAccount),
      this.coord.recordLoginFailure(source, this.perSource),
    ]);
    return s.lockedUntil ?? a.lockedUntil;
  }

  /**
   * A good password clears that address's count only: the account-wide count keeps decaying with
   * its window, so a distributed guess is not reset by the operator's own logins.
   */
  async recordSuccess(username: string, ip: string): Promise<void> {
    if (!this.settings.enabled) return;
    await this.coord.clearLoginFailures(LoginLockout.keys(username, ip).source);
  }

  /** Lifts the account-wide lock (the operator's way out); per-address locks run out on their own. */
  async unlock(username: string): Promise<void> {
    await this.coord.clearLoginFailures(username);
  }
}
