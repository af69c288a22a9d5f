import { expect, test } from "bun:test";
import { startTestController } from "../../support/controller.ts";

test("fenced writes keep working after a restart with fresh in-memory coordination", async () => {
  const first = await startTestController();
  const token = await first.login();
  expect((await first.call("POST", "/api/v1/groups", { token, body: { name: "lobby" } })).status).toBe(201);
  for (let i = 1; i <= 3; i++) {
    expect(
      (await first.call("PATCH", "/api/v1/groups/lobby", { token, body: { maxInstances: 10 + i } })).status,
    ).toBe(200);
  }
  const highWater = await first.running.store.fenceHighWater("group-config:lobby");
  expect(highWater).toBeGreaterThanOrEqual(4);
  await first.stop();

  // Same store, new process-memory coordination: its token counters start from zero again.
  const second = await startTestController("", undefined, first.root);
  try {
    const again = await second.login();
    const res = await second.call("PATCH", "/api/v1/groups/lobby", {
      token: again,
      body: { maxInstances: 20 },
    });
    expect(res.status).toBe(200);
    expect(await second.running.store.fenceHighWater("group-config:lobby")).toBeGreaterThan(highWater);
  } finally {
    await second.stop();
  }
});
