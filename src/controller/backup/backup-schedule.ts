import { Cron } from "croner";
import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { BackupScope } from "./bundle-format.ts";

export type Schedule = { kind: "off" } | { kind: "interval"; ms: number } | { kind: "cron"; cron: Cron };

const INTERVAL = /^(\d+)\s*(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `backup.schedule`: "" is off, "30m"/"6h"/"1d" an interval, anything else a 5-field UTC cron. */
export function parseSchedule(text: string): Schedule {
  const value = text.trim();
  if (value === "") return { kind: "off" };
  const m = INTERVAL.exec(value);
  if (m) {
    const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (ms < 60_000)
      throw new AppError(
        "CONFIG_INVALID",
        `backup.schedule: an interval of at least 1m was expected, got "${text}"`,
      );
    return { kind: "interval", ms };
  }
  if (value.split(/\s+/).length !== 5) {
    throw new AppError(
      "CONFIG_INVALID",
      `backup.schedule: expected "", an interval like "6h" or a 5-field cron expression, got "${text}"`,
    );
  }
  try {
    return { kind: "cron", cron: new Cron(value, { timezone: "UTC", paused: true }) };
  } catch (err) {
    throw new AppError(
      "CONFIG_INVALID",
      `backup.schedule: "${text}" is not a valid cron expression (${(err as Error).message})`,
    );
  }
}

/**
 * The next slot strictly after `after` (epoch ms), or null when off. Intervals are aligned to the
 * epoch, so every controller computes the same slots and the slot lease picks one runner.
 */
export function nextSlot(schedule: Schedule, after: number): number | null {
  if (schedule.kind === "off") return null;
  if (schedule.kind === "interval") return (Math.floor(after / schedule.ms) + 1) * schedule.ms;
  return schedule.cron.nextRun(new Date(after))?.getTime() ?? null;
}

export interface ScheduleLoopDeps {
  schedule: Schedule;
  scope: BackupScope;
  coord: Coordination;
  holder: string;
  log: Logger;
  /** takes one backup (and prunes to the retention) */
  run: (scope: BackupScope) => Promise<{ id: string }>;
  now?: () => number;
}

/**
 * Runs scheduled backups. Each slot is claimed with a lease named after it (`backup-slot:<ms>`),
 * held for the run: in an active-active cluster exactly one controller takes each slot, and a
 * controller that dies mid-run leaves the slot to expire (the next slot runs normally).
 */
export function startBackupSchedule(deps: ScheduleLoopDeps): () => void {
  const now = deps.now ?? systemClock.now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    const slot = nextSlot(deps.schedule, now());
    if (slot === null) return;
    // setTimeout caps at ~24.8 days; re-arm in steps for long cron gaps.
    timer = setTimeout(() => void fire(slot), Math.min(slot - now(), 2 ** 31 - 1));
  };
  const fire = async (slot: number) => {
    if (now() < slot) return arm();
    const lease = await deps.coord
      .acquireLease(`backup-slot:${slot}`, deps.holder, 6 * 3_600_000)
      // coordination down: treated as "a peer has this slot"; the next slot is armed either way
      .catch(() => null);
    if (lease) {
      try {
        const m = await deps.run(deps.scope);
        deps.log.info({ backup: m.id, scope: deps.scope }, "scheduled backup written");
      } catch (err) {
        deps.log.error({ err }, "scheduled backup failed");
      }
    }
    arm();
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
