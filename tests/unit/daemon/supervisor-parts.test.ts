import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { InstanceState } from "../../../src/core/lifecycle/index.ts";
import type { LinkSupervisor } from "../../../src/daemon/link/supervisor-port.ts";
import type { Supervisor } from "../../../src/daemon/supervisor/index.ts";
import { AppliedPlanStore, buildCrashReport, MAX_TAIL_LINES } from "../../../src/daemon/supervisor/index.ts";
import { LifecycleRecord } from "../../../src/daemon/supervisor/lifecycle-record.ts";
import { varInt } from "../../../src/daemon/supervisor/server-list-ping.ts";
import { tempDir } from "../../support/temp-dirs.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("AppliedPlanStore", () => {
  test("persists applied hashes across reopening, drops the oldest past the limit, can forget", async () => {
    const dir = tempDir("prexor-applied-");
    dirs.push(dir);
    const file = join(dir, "nested", "applied.json");
    const store = await AppliedPlanStore.open(file, 2);
    await Promise.all([
      store.record("h1", "a-1", 1),
      store.record("h2", "a-2", 2),
      store.record("h3", "a-3", 3),
    ]);
    const reopened = await AppliedPlanStore.open(file, 2);
    expect(["h1", "h2", "h3"].map((h) => reopened.has(h))).toEqual([false, true, true]);
    expect(reopened.instanceOf("h3")).toBe("a-3");
    await reopened.forget("h3");
    expect((await AppliedPlanStore.open(file)).has("h3")).toBe(false);
  });
});

describe("LifecycleRecord", () => {
  test("follows the FSM table and refuses (and reports) illegal moves", () => {
    const changes: string[] = [];
    const illegal: string[] = [];
    const record = new LifecycleRecord(
      "SCHEDULED",
      (change) => changes.push(`${change.from}->${change.to}`),
      (from, to) => illegal.push(`${from}->${to}`),
    );
    const moves: InstanceState[] = [
      "PREPARING",
      "STARTING",
      "RUNNING",
      "STARTING",
      "STOPPING",
      "STOPPING",
      "CRASHED",
      "RUNNING",
    ];
    const results = moves.map((to) => record.moveTo(to, "test"));
    expect(results).toEqual([true, true, true, false, true, false, true, false]);
    expect(changes).toEqual([
      "SCHEDULED->PREPARING",
      "PREPARING->STARTING",
      "STARTING->RUNNING",
      "RUNNING->STOPPING",
      "STOPPING->CRASHED",
    ]);
    expect(illegal).toEqual(["RUNNING->STARTING", "CRASHED->RUNNING"]);
    expect(record.state).toBe("CRASHED");
  });
});

describe("buildCrashReport", () => {
  test("classifies from the tail and keeps it within the controller's limits", () => {
    const tail = [
      ...Array.from({ length: 600 }, (_, i) => `line ${i}`),
      "x".repeat(10_000),
      'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
    ];
    const report = buildCrashReport({
      instanceId: "lobby-1",
      group: "lobby",
      planHash: "abc",
      exit: { exitCode: 1, signal: null },
      logTail: tail,
      uptimeMs: 1234,
      crashedAtMs: 99,
    });
    expect(report).toMatchObject({ classification: "OOM", exitCode: 1, signal: null, uptimeMs: 1234 });
    expect(report.logTail).toHaveLength(MAX_TAIL_LINES);
    expect(Math.max(...report.logTail.map((l) => l.length))).toBe(8192);
  });

  test("a signal death without evidence, and a daemon-caused end", () => {
    const killed = buildCrashReport({
      instanceId: "a",
      group: "g",
      planHash: "h",
      exit: { exitCode: null, signal: "SIGKILL" },
      logTail: [],
      uptimeMs: 0,
      crashedAtMs: 0,
      daemonCause: "not ready within the 5s startup timeout",
    });
    expect(killed.classification).toBe("SIGKILL");
    expect(killed.reason).toBe("not ready within the 5s startup timeout (Killed (SIGKILL))");
  });
});

describe("VarInt (Server List Ping framing)", () => {
  test("encodes like the protocol: 7 bits per byte, negatives as 5 bytes", () => {
    expect([...varInt(0)]).toEqual([0x00]);
    expect([...varInt(127)]).toEqual([0x7f]);
    expect([...varInt(128)]).toEqual([0x80, 0x01]);
    expect([...varInt(25565)]).toEqual([0xdd, 0xc7, 0x01]);
    expect([...varInt(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });
});

// Compile-time contract: the daemon link reads snapshots and ports straight off the supervisor.
const supervisorServesTheLink: Supervisor extends LinkSupervisor ? true : false = true;
test("the supervisor satisfies the link's LinkSupervisor port (checked by tsc)", () => {
  expect(supervisorServesTheLink).toBe(true);
});
