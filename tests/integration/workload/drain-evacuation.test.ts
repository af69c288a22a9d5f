/**
 * A node drain moves players, not just servers: when an instance goes DRAINING, each of its players
 * connected through a proxy is queued for the least-loaded RUNNING instance of the group, else of
 * the group's fallbackGroup, and the proxy finds the intent in its pending transfers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitFor } from "../../support/wait.ts";
import { json, startWorkloadHarness, type WorkloadClient, type WorkloadHarness } from "./workload-harness.ts";

let h: WorkloadHarness;
let proxy: WorkloadClient;

beforeAll(async () => {
  h = await startWorkloadHarness([
    { name: "proxy", platform: "VELOCITY" },
    { name: "hub" },
    { name: "lobby" },
    { name: "solo" },
  ]);
  const patched = await h.ctl.call("PATCH", "/api/v1/groups/solo", {
    token: h.admin,
    body: { fallbackGroup: "hub" },
  });
  expect(patched.status).toBe(200);
  await h.instance("proxy-1", "proxy");
  await h.instance("hub-1", "hub");
  await h.instance("lobby-1", "lobby", "RUNNING", 0);
  await h.instance("lobby-2", "lobby", "RUNNING", 5);
  await h.instance("lobby-3", "lobby", "RUNNING", 1);
  await h.instance("solo-1", "solo");
  proxy = await h.client("proxy-1", "proxy", "/api/proxy");
});
afterAll(() => h.stop());

const servers = new Map<string, WorkloadClient>();
type Pending = { playerUuid: string; targetInstanceId: string };

async function join(instanceId: string, group: string, viaProxy: boolean): Promise<string> {
  const uuid = crypto.randomUUID();
  if (viaProxy) expect((await proxy.post("/player-join", { uuid, name: "P" })).status).toBe(200);
  // One client per instance: the sequence is per instance, so a second client would replay it.
  const server = servers.get(instanceId) ?? (await h.client(instanceId, group, "/api/plugin"));
  servers.set(instanceId, server);
  expect((await server.post("/player-join", { uuid, name: "P" })).status).toBe(200);
  return uuid;
}

const pending = async () => (await json<{ data: Pending[] }>(await proxy.get("/pending-transfers"))).data;

test("players of a draining instance are queued for the least-loaded RUNNING instance of its group", async () => {
  const moved = await join("lobby-1", "lobby", true);
  const stranded = await join("lobby-1", "lobby", false);
  await h.ctl.running.instances.instances.drain("lobby-1", "node drain");
  const queued = await waitFor(async () => (await pending()).find((p) => p.playerUuid === moved), {
    timeoutMs: 10_000,
    what: "the transfer of the draining instance's player",
  });
  // lobby-3 has 1 player against lobby-2's 5; the draining lobby-1 itself is never a target.
  expect(queued.targetInstanceId).toBe("lobby-3");
  // A player without a proxy has nobody to carry a transfer out.
  expect((await pending()).some((p) => p.playerUuid === stranded)).toBe(false);
});

test("with no other instance of the group, the fallbackGroup takes them", async () => {
  const player = await join("solo-1", "solo", true);
  await h.ctl.running.instances.instances.drain("solo-1", "node drain");
  const queued = await waitFor(async () => (await pending()).find((p) => p.playerUuid === player), {
    timeoutMs: 10_000,
    what: "the transfer to the fallback group",
  });
  expect(queued.targetInstanceId).toBe("hub-1");
});
