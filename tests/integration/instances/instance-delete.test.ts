/**
 * `DELETE /api/v1/services/{id}` removes an instance record only through the instance service, under
 * the group's lease with its fencing token (issue 14 item 2): a live instance is refused, and while
 * another controller holds the group's lease the delete waits and is then refused, never written.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestController, type TestController } from "../../support/controller.ts";

let ctl: TestController;
let token: string;

beforeAll(async () => {
  ctl = await startTestController();
  token = await ctl.login();
});
afterAll(() => ctl.stop());

async function record(id: string, state: "STOPPED" | "RUNNING", group = "del-lobby"): Promise<void> {
  const now = Date.now();
  await ctl.running.instances.instances.record({
    _id: id,
    group,
    node: "node-a",
    state,
    port: 30000,
    planHash: "h",
    createdAt: now,
    stateChangedAt: now,
    players: 0,
  });
}

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("deleting an instance record", () => {
  test("a STOPPED record is removed; a RUNNING one is a 409 and stays", async () => {
    await record("del-lobby-1", "STOPPED");
    await record("del-lobby-2", "RUNNING");
    const removed = await ctl.call("DELETE", "/api/v1/services/del-lobby-1", { token });
    expect(removed.status).toBe(200);
    expect(await ctl.running.instances.instances.get("del-lobby-1")).toBeNull();
    const refused = await ctl.call("DELETE", "/api/v1/services/del-lobby-2", { token });
    expect(refused.status).toBe(409);
    expect(await errorCode(refused)).toBe("CONFLICT");
    expect((await ctl.running.instances.instances.get("del-lobby-2"))?.state).toBe("RUNNING");
  });

  test("while another controller holds the group's lease, the delete is refused and nothing is removed", async () => {
    await record("held-1", "STOPPED", "held");
    const lease = await ctl.running.coord.acquireLease("group:held", "another-controller", 60_000);
    expect(lease).not.toBeNull();
    try {
      const res = await ctl.call("DELETE", "/api/v1/services/held-1", { token });
      expect(res.status).toBe(409);
      expect(await errorCode(res)).toBe("CONFLICT");
      expect(await ctl.running.instances.instances.get("held-1")).not.toBeNull();
    } finally {
      await ctl.running.coord.releaseLease(lease!);
    }
    expect((await ctl.call("DELETE", "/api/v1/services/held-1", { token })).status).toBe(200);
  });
});
