/**
 * The player registry and transfers over real HTTP: a proxy and backend plugins report joins and
 * leaves, the online list and the instances' player counters follow, and a transfer requested by
 * a server becomes a durable intent its proxy polls and acknowledges.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../../support/wait.ts";
import {
  json,
  outcome,
  startWorkloadHarness,
  type WorkloadClient,
  type WorkloadHarness,
} from "./workload-harness.ts";

let h: WorkloadHarness;
let proxy: WorkloadClient;
let proxy2: WorkloadClient;
let lobby1: WorkloadClient;
let lobby2: WorkloadClient;

beforeAll(async () => {
  h = await startWorkloadHarness([
    { name: "proxy", platform: "VELOCITY" },
    { name: "lobby" },
    { name: "game" },
    { name: "empty" },
  ]);
  await h.instance("proxy-1", "proxy");
  await h.instance("proxy-2", "proxy");
  await h.instance("lobby-1", "lobby");
  await h.instance("lobby-2", "lobby");
  await h.instance("lobby-3", "lobby", "STARTING");
  await h.instance("game-1", "game", "RUNNING", 3);
  await h.instance("game-2", "game", "RUNNING", 1);
  await h.instance("game-3", "game", "STOPPING", 0);
  await h.instance("empty-1", "empty", "STARTING");
  proxy = await h.client("proxy-1", "proxy", "/api/proxy");
  proxy2 = await h.client("proxy-2", "proxy", "/api/proxy");
  lobby1 = await h.client("lobby-1", "lobby", "/api/plugin");
  lobby2 = await h.client("lobby-2", "lobby", "/api/plugin");
});
afterAll(() => h.stop());

type PlayerView = {
  id: string;
  name: string;
  currentInstance: string | null;
  currentGroup: string | null;
  proxyInstance: string | null;
  connectedSince: string;
  edition: string;
};

async function players(client: WorkloadClient): Promise<PlayerView[]> {
  return (await json<{ data: PlayerView[] }>(await client.get("/players"))).data;
}
const playerCount = async (id: string) => (await h.view(id)).playerCount;
const uuid = () => crypto.randomUUID();

describe("joins and leaves", () => {
  test("a proxy join records the proxy, a server join the server; both counters move", async () => {
    const steve = uuid();
    expect(await outcome(await proxy.post("/player-join", { uuid: steve, name: "Steve" }))).toEqual({
      status: 200,
    });
    let [seen] = (await players(lobby1)).filter((p) => p.id === steve);
    expect(seen).toMatchObject({
      name: "Steve",
      proxyInstance: "proxy-1",
      currentInstance: null,
      edition: "JAVA",
    });
    expect(Date.parse(seen!.connectedSince)).toBeGreaterThan(Date.now() - 60_000);

    // The plugin sends its group too; the token's group is what counts.
    await lobby1.post("/player-join", { uuid: steve, name: "Steve", group: "whatever" });
    [seen] = (await players(proxy)).filter((p) => p.id === steve);
    expect(seen).toMatchObject({
      proxyInstance: "proxy-1",
      currentInstance: "lobby-1",
      currentGroup: "lobby",
    });
    expect(await playerCount("proxy-1")).toBe(1);
    expect(await playerCount("lobby-1")).toBe(1);

    // A repeated report counts nothing twice.
    await lobby1.post("/player-join", { uuid: steve, name: "Steve" });
    expect(await playerCount("lobby-1")).toBe(1);

    // Moving servers: the next server's join may arrive before the old server's leave.
    await lobby2.post("/player-join", { uuid: steve, name: "Steve" });
    expect(await playerCount("lobby-1")).toBe(0);
    expect(await playerCount("lobby-2")).toBe(1);
    const late = await json<{ status: string }>(await lobby1.post("/player-leave", { uuid: steve }));
    expect(late.status).toBe("unchanged");
    [seen] = (await players(proxy)).filter((p) => p.id === steve);
    expect(seen?.currentInstance).toBe("lobby-2");

    // Another proxy cannot end the session.
    expect((await json<{ status: string }>(await proxy2.post("/player-leave", { uuid: steve }))).status).toBe(
      "unchanged",
    );
    expect(await json<{ status: string }>(await proxy.post("/player-leave", { uuid: steve }))).toEqual({
      status: "ok",
    });
    expect((await players(proxy)).some((p) => p.id === steve)).toBe(false);
    expect(await playerCount("proxy-1")).toBe(0);
    expect(await playerCount("lobby-2")).toBe(0);
  });

  test("a server's leave keeps the player while the proxy still has them; a direct player is removed", async () => {
    const alex = uuid();
    await proxy.post("/player-join", { uuid: alex, name: "Alex", edition: "BEDROCK" });
    await lobby1.post("/player-join", { uuid: alex, name: "Alex" });
    await lobby1.post("/player-leave", { uuid: alex });
    const [seen] = (await players(proxy)).filter((p) => p.id === alex);
    expect(seen).toMatchObject({
      proxyInstance: "proxy-1",
      currentInstance: null,
      currentGroup: null,
      edition: "BEDROCK",
    });
    await proxy.post("/player-leave", { uuid: alex });

    const direct = uuid();
    await lobby1.post("/player-join", { uuid: direct.toUpperCase(), name: "Direct" });
    expect((await players(proxy)).find((p) => p.id === direct)?.proxyInstance).toBeNull();
    await lobby1.post("/player-leave", { uuid: direct });
    expect((await players(proxy)).some((p) => p.id === direct)).toBe(false);
  });

  test("joins and leaves are announced on the event bus", async () => {
    const notch = uuid();
    await proxy.post("/player-join", { uuid: notch, name: "Notch" });
    await proxy.post("/player-leave", { uuid: notch });
    const recent = await waitFor(async () => {
      const res = await h.ctl.call(
        "GET",
        "/api/v1/events/recent?types=PLAYER_CONNECTED,PLAYER_DISCONNECTED",
        {
          token: h.admin,
        },
      );
      const { data } = (await res.json()) as { data: Array<Record<string, unknown>> };
      const mine = data.filter((e) => e.uuid === notch);
      return mine.length === 2 ? mine : null;
    });
    expect(recent.map((e) => e.type).sort()).toEqual(["PLAYER_CONNECTED", "PLAYER_DISCONNECTED"]);
    expect(recent[0]).toMatchObject({ name: "Notch", instanceId: "proxy-1", group: "proxy" });
  });

  test("bad bodies are refused: not a UUID, unknown fields", async () => {
    expect((await outcome(await proxy.post("/player-join", { uuid: "nope", name: "X" }))).status).toBe(422);
    expect(
      (await outcome(await proxy.post("/player-join", { uuid: uuid(), name: "X", extra: true }))).status,
    ).toBe(422);
  });

  test("the players gauge counts online players", async () => {
    const p = uuid();
    await proxy.post("/player-join", { uuid: p, name: "Gauge" });
    const text = await (await h.ctl.call("GET", "/metrics")).text();
    expect(Number(text.match(/^prexorcloud_players_total (\d+)/m)?.[1])).toBeGreaterThanOrEqual(1);
    await proxy.post("/player-leave", { uuid: p });
  });
});

describe("transfers", () => {
  /** A player connected through `via` and on `server`. */
  async function online(via: WorkloadClient, server: WorkloadClient, name = "Mover"): Promise<string> {
    const id = uuid();
    await via.post("/player-join", { uuid: id, name });
    await server.post("/player-join", { uuid: id, name });
    return id;
  }

  test("transfer: a durable intent for the player's proxy, polled and acknowledged", async () => {
    const id = await online(proxy, lobby1);
    const res = await lobby1.post("/transfer", { playerUuid: id, targetInstanceId: "lobby-2" });
    const body = await json<{ status: string; transfer: Record<string, unknown> }>(res, 202);
    expect(body.transfer).toMatchObject({
      playerUuid: id,
      targetInstanceId: "lobby-2",
      proxyInstanceId: "proxy-1",
    });
    const stored = await h.ctl.running.store
      .collection<{ _id: string; createdAt: number }>("workflow_transfers")
      .get(id);
    expect(stored).toMatchObject({
      _id: id,
      playerUuid: id,
      targetInstanceId: "lobby-2",
      proxyInstanceId: "proxy-1",
    });
    expect(typeof stored?.createdAt).toBe("number");

    const pending = await json<{ data: Array<Record<string, unknown>> }>(
      await proxy.get("/pending-transfers?proxyId=proxy-1"),
    );
    expect(pending.data.map((t) => t.playerUuid)).toContain(id);
    // Without ?proxyId the proxy gets its own.
    expect((await json<{ data: unknown[] }>(await proxy.get("/pending-transfers"))).data.length).toBe(
      pending.data.length,
    );
    const text = await (await h.ctl.call("GET", "/metrics")).text();
    expect(Number(text.match(/^prexorcloud_workflows_pending_transfers (\d+)/m)?.[1])).toBeGreaterThanOrEqual(
      1,
    );

    // Another proxy may neither read nor acknowledge it.
    expect(await outcome(await proxy2.get("/pending-transfers?proxyId=proxy-1"))).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
    expect(
      (await json<{ data: unknown[] }>(await proxy2.get("/pending-transfers?proxyId=proxy-2"))).data,
    ).toEqual([]);
    expect((await outcome(await proxy2.post(`/transfer-ack/${id}`))).status).toBe(403);

    expect(await json(await proxy.post(`/transfer-ack/${id}`))).toEqual({ status: "acknowledged" });
    expect(await h.ctl.running.store.collection("workflow_transfers").get(id)).toBeNull();
    expect(await outcome(await proxy.post(`/transfer-ack/${id}`))).toEqual({
      status: 404,
      code: "NOT_FOUND",
    });
    expect(await outcome(await proxy.post("/transfer-ack/not-a-uuid"))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
  });

  test("transfer is announced as PLAYER_TRANSFER", async () => {
    const id = await online(proxy, lobby1, "Herald");
    expect((await lobby1.post("/transfer", { playerUuid: id, targetInstanceId: "lobby-2" })).status).toBe(
      202,
    );
    const event = await waitFor(async () => {
      const res = await h.ctl.call("GET", "/api/v1/events/recent?types=PLAYER_TRANSFER", { token: h.admin });
      return ((await res.json()) as { data: Array<Record<string, unknown>> }).data.find((e) => e.uuid === id);
    });
    expect(event).toMatchObject({ name: "Herald", fromInstanceId: "lobby-1", toInstanceId: "lobby-2" });
  });

  test("transfer refusals: bad UUID 400, unknown player or instance 404, target not RUNNING 409", async () => {
    const id = await online(proxy, lobby1);
    const transfer = (playerUuid: string, targetInstanceId: string) =>
      lobby1.post("/transfer", { playerUuid, targetInstanceId }).then(outcome);
    expect(await transfer("not-a-uuid", "lobby-2")).toEqual({ status: 400, code: "BAD_REQUEST" });
    expect(await transfer(uuid(), "lobby-2")).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await transfer(id, "nowhere-1")).toEqual({ status: 404, code: "INSTANCE_NOT_FOUND" });
    expect(await transfer(id, "lobby-3")).toEqual({ status: 409, code: "CONFLICT" });
    expect((await outcome(await lobby1.post("/transfer", { playerUuid: id }))).status).toBe(422);
  });

  test("a server may only move its own players", async () => {
    const id = await online(proxy, lobby1);
    expect(
      await outcome(await lobby2.post("/transfer", { playerUuid: id, targetInstanceId: "game-1" })),
    ).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
    expect(await outcome(await lobby2.post("/transfer-to-group", { playerUuid: id, group: "game" }))).toEqual(
      {
        status: 403,
        code: "FORBIDDEN",
      },
    );
  });

  test("a player without a proxy cannot be transferred", async () => {
    const id = uuid();
    await lobby1.post("/player-join", { uuid: id, name: "Direct" });
    expect(
      await outcome(await lobby1.post("/transfer", { playerUuid: id, targetInstanceId: "lobby-2" })),
    ).toEqual({
      status: 409,
      code: "CONFLICT",
    });
  });

  test("transfer-to-group picks the least-loaded RUNNING instance; 404 unknown group, 409 none running", async () => {
    const id = await online(proxy, lobby1);
    const body = await json<{ transfer: { targetInstanceId: string } }>(
      await lobby1.post("/transfer-to-group", { playerUuid: id, group: "game" }),
      202,
    );
    expect(body.transfer.targetInstanceId).toBe("game-2");
    expect(await outcome(await lobby1.post("/transfer-to-group", { playerUuid: id, group: "nope" }))).toEqual(
      {
        status: 404,
        code: "NOT_FOUND",
      },
    );
    expect(
      await outcome(await lobby1.post("/transfer-to-group", { playerUuid: id, group: "empty" })),
    ).toEqual({
      status: 409,
      code: "CONFLICT",
    });
    expect(
      await outcome(await lobby1.post("/transfer-to-group", { playerUuid: "x", group: "game" })),
    ).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
    // The group the player is on, with no other RUNNING instance than theirs... lobby-2 is free.
    const again = await json<{ transfer: { targetInstanceId: string } }>(
      await lobby1.post("/transfer-to-group", { playerUuid: id, group: "lobby" }),
      202,
    );
    expect(again.transfer.targetInstanceId).toBe("lobby-2");
  });
});
