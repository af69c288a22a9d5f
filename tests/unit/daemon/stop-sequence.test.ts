import { describe, expect, test } from "bun:test";
import { runStopSequence, type StoppableProcess } from "../../../src/daemon/supervisor/index.ts";
import { ManualClock } from "../../support/manual-clock.ts";

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A process double that exits when told to by the test, or on the signal named in `diesOn`. */
function fakeProcess(options: { diesOn?: "command" | "SIGTERM" | "SIGKILL"; consoleOpen?: boolean } = {}) {
  const actions: string[] = [];
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => {
    exit = resolve;
  });
  const process: StoppableProcess = {
    writeCommand(line) {
      if (options.consoleOpen === false) return false;
      actions.push(`command:${line}`);
      if (options.diesOn === "command") exit();
      return true;
    },
    signal(signal) {
      actions.push(signal);
      if (signal === "SIGKILL" || options.diesOn === signal) exit();
    },
    exited,
  };
  return { process, actions };
}

const timings = { stopCommand: "stop", shutdownTimeoutMs: 30_000, killTimeoutMs: 10_000 };

describe("runStopSequence", () => {
  test("a server that obeys its stop command gets no signal", async () => {
    const timers = new ManualClock();
    const { process, actions } = fakeProcess({ diesOn: "command" });
    expect(await runStopSequence(process, { ...timings, force: false, timers })).toBe("command");
    expect(actions).toEqual(["command:stop"]);
    expect(timers.scheduled).toEqual([]);
  });

  test("escalates to SIGTERM only after the shutdown timeout", async () => {
    const timers = new ManualClock();
    const { process, actions } = fakeProcess({ diesOn: "SIGTERM" });
    const result = runStopSequence(process, { ...timings, stopCommand: "end", force: false, timers });
    await flush();
    expect(actions).toEqual(["command:end"]);
    await timers.advance(29_999);
    expect(actions).toEqual(["command:end"]);
    await timers.advance(1);
    expect(await result).toBe("SIGTERM");
    expect(actions).toEqual(["command:end", "SIGTERM"]);
    expect(timers.scheduled).toEqual([]);
  });

  test("escalates to SIGKILL after the kill timeout", async () => {
    const timers = new ManualClock();
    const steps: string[] = [];
    const { process, actions } = fakeProcess();
    const result = runStopSequence(process, {
      ...timings,
      force: false,
      timers,
      onStep: (s) => steps.push(s),
    });
    await timers.advance(30_000);
    expect(actions).toEqual(["command:stop", "SIGTERM"]);
    await timers.advance(9_999);
    expect(actions).toEqual(["command:stop", "SIGTERM"]);
    await timers.advance(1);
    expect(await result).toBe("SIGKILL");
    expect(actions).toEqual(["command:stop", "SIGTERM", "SIGKILL"]);
    expect(steps).toEqual(["command", "SIGTERM", "SIGKILL"]);
  });

  test("a closed console goes straight to SIGTERM", async () => {
    const timers = new ManualClock();
    const { process, actions } = fakeProcess({ diesOn: "SIGTERM", consoleOpen: false });
    expect(await runStopSequence(process, { ...timings, force: false, timers })).toBe("SIGTERM");
    expect(actions).toEqual(["SIGTERM"]);
  });

  test("force kills at once", async () => {
    const timers = new ManualClock();
    const { process, actions } = fakeProcess({ diesOn: "command" });
    expect(await runStopSequence(process, { ...timings, force: true, timers })).toBe("SIGKILL");
    expect(actions).toEqual(["SIGKILL"]);
  });
});
