import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InstanceState } from "../../core/lifecycle/index.ts";
import type { RunSettings } from "./managed-instance.ts";
import { MONITOR_FILES, type MonitorIdentity } from "./monitored-process.ts";
import type { SupervisedPlan } from "./supervisor-types.ts";

/** RunSettings as JSON (the console pattern travels as source + flags). */
interface StoredSettings extends Omit<RunSettings, "readiness"> {
  readonly readiness: {
    readonly console?: { source: string; flags: string } | false;
    readonly ping?: boolean;
  };
}

/**
 * What a restarted daemon needs to take a workload back: which plan it runs, its ports and RCON,
 * how to stop it, and the identity that proves the process is still the one started. Kept beside
 * the monitor's files, 0600 (the plan's env and the RCON password are in it).
 */
export interface MonitorRecord {
  readonly version: 1;
  readonly plan: SupervisedPlan;
  readonly port: number;
  readonly rcon?: { readonly port: number; readonly password: string };
  readonly identity: MonitorIdentity;
  readonly startedAtMs: number;
  readonly state: InstanceState;
  readonly settings: StoredSettings;
}

export function writeMonitorRecord(
  dir: string,
  record: Omit<MonitorRecord, "version" | "settings"> & { settings: RunSettings },
): void {
  const { readiness, ...rest } = record.settings;
  const stored: MonitorRecord = {
    ...record,
    version: 1,
    settings: {
      ...rest,
      readiness: {
        ...(readiness.console !== undefined
          ? {
              console:
                readiness.console === false
                  ? false
                  : { source: readiness.console.source, flags: readiness.console.flags },
            }
          : {}),
        ...(readiness.ping !== undefined ? { ping: readiness.ping } : {}),
      },
    },
  };
  const file = join(dir, MONITOR_FILES.record);
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The record in `dir`, or undefined when there is none or it is not one we can read. */
export function readMonitorRecord(dir: string): MonitorRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dir, MONITOR_FILES.record), "utf8")) as MonitorRecord;
    if (record.version !== 1 || typeof record.plan?.instanceId !== "string") return undefined;
    return record;
  } catch {
    // as documented: no record, or one we cannot read
    return undefined;
  }
}

export function settingsFromRecord(record: MonitorRecord): RunSettings {
  const { readiness, ...rest } = record.settings;
  const console = readiness.console;
  return {
    ...rest,
    readiness: {
      ...(console !== undefined
        ? { console: console === false ? false : new RegExp(console.source, console.flags) }
        : {}),
      ...(readiness.ping !== undefined ? { ping: readiness.ping } : {}),
    },
  };
}
