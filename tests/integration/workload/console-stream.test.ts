/**
 * The per-instance console stream over real HTTP: an operator trades a JWT for a ticket, the
 * stream replays what the controller's console buffer holds and then delivers new lines live; a
 * used ticket is refused with the SSE error event.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SseReader } from "../events/sse-reader.ts";
import { json, startWorkloadHarness, type WorkloadHarness } from "./workload-harness.ts";

let h: WorkloadHarness;

beforeAll(async () => {
  h = await startWorkloadHarness([{ name: "lobby" }]);
  await h.instance("lobby-1", "lobby");
});
afterAll(() => h.stop());

async function ticket(): Promise<string> {
  return (
    await json<{ ticket: string }>(await h.ctl.call("POST", "/api/v1/events/ticket", { token: h.admin }))
  ).ticket;
}

test("history first, then live lines; a reused ticket gets the error event", async () => {
  const console = h.ctl.running.instances.console;
  console.push("lobby-1", { line: "[Server] Done (2.1s)!", timestampMs: 1_000 });
  const t = await ticket();
  const stream = await SseReader.open(`${h.ctl.url}/api/v1/services/lobby-1/console?ticket=${t}`);
  try {
    expect(stream.contentType).toContain("text/event-stream");
    const history = await stream.next((f) => f.event === "console");
    expect(JSON.parse(history.data)).toEqual({ line: "[Server] Done (2.1s)!", timestampMs: 1_000 });
    console.push("lobby-1", { line: "Steve joined the game", timestampMs: 2_000 });
    console.push("lobby-2", { line: "another instance", timestampMs: 2_500 });
    console.push("lobby-1", { line: "Steve left the game", timestampMs: 3_000 });
    const live = [
      await stream.next((f) => f.event === "console"),
      await stream.next((f) => f.event === "console"),
    ];
    expect(live.map((f) => JSON.parse(f.data).line)).toEqual([
      "Steve joined the game",
      "Steve left the game",
    ]);
  } finally {
    stream.close();
  }

  // A used or missing ticket: 401 with the JSON envelope, not 200 plus an error frame.
  for (const query of [`?ticket=${t}`, ""]) {
    const refused = await fetch(`${h.ctl.url}/api/v1/services/lobby-1/console${query}`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
  }
});
