import { describe, expect, test } from "bun:test";
import { activityLine } from "../../../src/cli/commands/backup.ts";
import { nextSlot, parseSchedule } from "../../../src/controller/backup/backup-schedule.ts";
import { bundleIdAt, isBundleId, type Manifest } from "../../../src/controller/backup/bundle-format.ts";
import { isSafeRelative } from "../../../src/controller/backup/filesystem-state.ts";
import { PARTIAL_GRACE_MS, planPrune } from "../../../src/controller/backup/prune-plan.ts";
import { planRestore } from "../../../src/controller/backup/restore-plan.ts";

const NOW = Date.UTC(2026, 11, 2, 13, 0, 0);

describe("planPrune", () => {
  test("keeps the newest complete bundles, removes the rest and only stale partials", () => {
    const entries = [
      { id: "20261201-100000", complete: true, modifiedAt: 0 },
      { id: "20261202-100000", complete: true, modifiedAt: 0 },
      { id: "20261130-100000", complete: true, modifiedAt: 0 },
      { id: "20261202-110000.partial", complete: false, modifiedAt: NOW - PARTIAL_GRACE_MS - 1 },
      { id: "20261202-125959.partial", complete: false, modifiedAt: NOW - 1000 },
    ];
    expect(planPrune(entries, 2, NOW)).toEqual({
      keep: ["20261202-100000", "20261201-100000"],
      remove: ["20261130-100000"],
      removePartials: ["20261202-110000.partial"],
    });
    expect(planPrune(entries, 0, NOW).keep).toEqual([]);
    expect(planPrune(entries, 10, NOW).remove).toEqual([]);
  });
});

describe("bundle ids and paths", () => {
  test("ids are UTC yyyyMMdd-HHmmss and nothing else is accepted as one", () => {
    expect(bundleIdAt(Date.UTC(2026, 0, 5, 3, 4, 5))).toBe("20260105-030405");
    expect(isBundleId("20260105-030405")).toBe(true);
    expect(isBundleId("20260105-030405-2")).toBe(true);
    for (const bad of ["../x", "20260105-030405/..", "latest", "20260105-030405.partial", ""]) {
      expect(isBundleId(bad)).toBe(false);
    }
  });
  test("only relative paths below the bundle are safe", () => {
    expect(isSafeRelative("store/groups.ndjson")).toBe(true);
    for (const bad of ["/etc/passwd", "../x", "a/../../b", "a//b", "a\\b", "./a"])
      expect(isSafeRelative(bad)).toBe(false);
  });
});

describe("planRestore", () => {
  const manifest = {
    id: "20261202-130000",
    collections: [
      { name: "groups", file: "store/groups.ndjson", documents: 2, bytes: 1, sha256: "x" },
      { name: "users", file: "store/users.ndjson", documents: 1, bytes: 1, sha256: "x" },
    ],
    files: [
      { path: "store/groups.ndjson", bytes: 1, sha256: "x" },
      { path: "store/users.ndjson", bytes: 1, sha256: "x" },
      { path: "store/_internals.json", bytes: 1, sha256: "x" },
      { path: "coordination.json", bytes: 1, sha256: "x" },
      { path: "files/templates/lobby/abc/server.properties", bytes: 1, sha256: "x" },
      { path: "files/config/controller.yml", bytes: 1, sha256: "x" },
    ],
  } as unknown as Manifest;

  test("replaces bundled collections, empties ones the bundle lacks, skips the journal", () => {
    const plan = planRestore(
      manifest,
      { groups: 5, networks: 3, restore_journal: 1, crashes: 0 },
      {
        dryRun: false,
        datastores: true,
        filesystem: true,
      },
    );
    expect(plan.collections).toEqual([
      { name: "groups", action: "replace", documents: 2, currentDocuments: 5 },
      { name: "networks", action: "clear", documents: 0, currentDocuments: 3 },
      { name: "users", action: "replace", documents: 1, currentDocuments: 0 },
    ]);
    expect(plan.internals).toBe(true);
    expect(plan.coordination).toBe(true);
    // the redacted controller.yml is for reading, never put back over the live one
    expect(plan.files).toEqual(["files/templates/lobby/abc/server.properties"]);
  });

  test("scopes the caller turned off do nothing", () => {
    const plan = planRestore(manifest, { groups: 5 }, { dryRun: true, datastores: false, filesystem: false });
    expect(plan.collections).toEqual([]);
    expect(plan.files).toEqual([]);
    expect(plan.coordination).toBe(false);
  });
});

describe("backup schedule", () => {
  test("intervals are aligned slots, cron runs in UTC, bad values name the key", () => {
    const hourly = parseSchedule("1h");
    expect(nextSlot(hourly, Date.UTC(2026, 11, 2, 13, 20))).toBe(Date.UTC(2026, 11, 2, 14, 0));
    expect(nextSlot(hourly, Date.UTC(2026, 11, 2, 14, 0))).toBe(Date.UTC(2026, 11, 2, 15, 0));
    const nightly = parseSchedule("0 2 * * *");
    expect(nextSlot(nightly, Date.UTC(2026, 11, 2, 13, 0))).toBe(Date.UTC(2026, 11, 3, 2, 0));
    expect(nextSlot(parseSchedule(""), 0)).toBeNull();
    expect(() => parseSchedule("0 99 * * *")).toThrow(/backup.schedule/);
    expect(() => parseSchedule("sometimes")).toThrow(/backup.schedule/);
    expect(() => parseSchedule("0m")).toThrow(/at least 1m/);
  });

  test("the progress line shows documents of the total and bytes", () => {
    const line = activityLine(
      { kind: "restore", phase: "store", documents: 50, bytes: 2048, totalDocuments: 100, totalBytes: 4096 },
      1500,
    );
    expect(line).toContain("50/100 documents");
    expect(line).toContain("2.0 KiB");
    expect(line).toContain(`[${"=".repeat(15).padEnd(30)}]`);
  });
});
