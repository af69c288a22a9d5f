/**
 * The operator's player routes over real HTTP: the online list and one player in the REST shape,
 * an operator transfer that becomes the same intent the proxy polls, the permissions guarding
 * them, and the journey log of a player's joins, switches, transfers and leave.
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
let lobby1: WorkloadClient;
let lobby2: WorkloadClient;
let game1: WorkloadClient;

beforeAll(async () => {
  h = await startWorkloadHarness([
    { name: "proxy", platform: "VELOCITY" },
    { name: "lobby" },
    { name: "game" },
  ]);
  await h.instance("proxy-1", "proxy");
  await h.instance("lobby-1", "lobby");
  await h.instance("lobby-2", "lobby");
  await h.instance("game-1", "game");
  await h.instance("game-2", "game", "STARTING");
  proxy = await h.client("proxy-1", "proxy", "/api/proxy");
  lobby1 = await h.client("lobby-1", "lobby", "/api/plugin");
  lobby2 = await h.client("lobby-2", "lobby", "/api/plugin");
  game1 = await h.client("game-1", "game", "/api/plugin");
});
afterAll(() => h.stop());

const uuid = () => crypto.randomUUID();
const api = (method: string, path: string, body?: unknown, token = h.admin) =>
  h.ctl.call(method, `/api/v1${path}`, { token, ...(body !== undefined ? { body } : {}) });
const transfer = (id: string, targetInstanceId: string, token?: string) =>
  api("POST", `/players/${id}/transfer`, { targetInstanceId }, token);

/** A player connected through proxy-1 and on `server`. */
async function online(server: WorkloadClient, name = "Mover"): Promise<string> {
  const id = uuid();
  await proxy.post("/player-join", { uuid: id, name });
  await server.post("/player-join", { uuid: id, name });
  return id;
}

type Journey = Array<{
  playerUuid: string;
  playerName: string;
  eventType: string;
  fromInstanceId: string | null;
  toInstanceId: string | null;
  group: string | null;
  timestamp: string;
}>;

async function journey(id: string, query = ""): Promise<Journey> {
  return (await json<{ data: Journey }>(await api("GET", `/players/${id}/journey${query}`))).data;
}

describe("players only a list ping shows", () => {
  test("a plugin-less server's sample is listed; a plugin-reported server's, a proxy's and anonymous entries are not", async () => {
    await h.instance("game-9", "game");
    await h.instance("proxy-9", "proxy");
    const sampled = uuid();
    const col = h.ctl.running.store.collection<Record<string, unknown> & { _id: string }>("instances");
    const since = Date.UTC(2026, 0, 1, 12);
    await col.update("game-9", {
      playerSample: ["Pinged", "Anonymous Player"],
      playerSampleIds: [sampled, "00000000-0000-0000-0000-000000000000"],
      playerSampleSince: [since, since],
    });
    // The proxy's sample repeats its backends' players; lobby-1 runs the plugin (Alpha reported).
    await col.update("proxy-9", {
      playerSample: ["ViaProxy"],
      playerSampleIds: [uuid()],
      playerSampleSince: [since],
    });
    const reportedHere = await online(lobby1, "Reported");
    await col.update("lobby-1", {
      playerSample: ["Shadow"],
      playerSampleIds: [uuid()],
      playerSampleSince: [since],
    });

    const page = await json<{ data: Array<{ id: string; name: string }> }>(
      await api("GET", "/players?pageSize=500"),
    );
    const names = page.data.map((p) => p.name);
    expect(names).toContain("Pinged");
    expect(names).toContain("Reported");
    expect(names).not.toContain("ViaProxy");
    expect(names).not.toContain("Shadow");
    expect(names).not.toContain("Anonymous Player");
    expect(await json(await api("GET", `/players/${sampled}`))).toEqual({
      id: sampled,
      name: "Pinged",
      currentInstance: "game-9",
      currentGroup: "game",
      proxyInstance: null,
      connectedSince: new Date(since).toISOString(),
      edition: "JAVA",
    });
    expect(page.data.some((p) => p.id === reportedHere)).toBe(true);
    await col.update("game-9", { state: "STOPPED" });
    expect((await api("GET", `/players/${sampled}`)).status).toBe(404);
  });
});

describe("the online players", () => {
  test("list and get answer in the PlayerDto shape, paged", async () => {
    const a = await online(lobby1, "Alpha");
    const b = await online(lobby2, "Bravo");
    const page = await json<{ data: Array<Record<string, unknown>>; page: number; total: number }>(
      await api("GET", "/players?pageSize=500"),
    );
    expect(page.page).toBe(1);
    expect(page.total).toBeGreaterThanOrEqual(2);
    const alpha = page.data.find((p) => p.id === a);
    expect(Object.keys(alpha ?? {}).sort()).toEqual(
      ["connectedSince", "currentGroup", "currentInstance", "edition", "id", "name", "proxyInstance"].sort(),
    );
    expect(alpha).toMatchObject({
      name: "Alpha",
      currentInstance: "lobby-1",
      currentGroup: "lobby",
      proxyInstance: "proxy-1",
      edition: "JAVA",
    });
    expect(Number.isNaN(Date.parse(String(alpha?.connectedSince)))).toBe(false);

    const second = await json<{ data: unknown[]; page: number; pageSize: number; total: number }>(
      await api("GET", "/players?page=2&pageSize=1"),
    );
    expect(second).toMatchObject({ page: 2, pageSize: 1, total: page.total });
    expect(second.data).toHaveLength(1);

    // Any spelling of the UUID finds the player.
    const bravo = await json(await api("GET", `/players/${b.toUpperCase()}`));
    expect(bravo).toMatchObject({ id: b, name: "Bravo", currentInstance: "lobby-2" });
  });

  test("a malformed UUID is 400, a player who is not online 404", async () => {
    expect(await outcome(await api("GET", "/players/not-a-uuid"))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
    expect(await outcome(await api("GET", `/players/${uuid()}`))).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await outcome(await api("GET", "/players/not-a-uuid/journey"))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
    expect(await outcome(await transfer("not-a-uuid", "game-1"))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
  });
});

describe("operator transfers", () => {
  test("an operator moves any player: the intent reaches the proxy and is audited", async () => {
    const id = await online(lobby1, "Charlie");
    const body = await json<{ status: string; transfer: Record<string, unknown> }>(
      await transfer(id, "game-1"),
      202,
    );
    expect(body).toMatchObject({
      status: "pending",
      transfer: { playerUuid: id, targetInstanceId: "game-1", proxyInstanceId: "proxy-1" },
    });
    const pending = await json<{ data: Array<Record<string, unknown>> }>(
      await proxy.get("/pending-transfers?proxyId=proxy-1"),
    );
    expect(pending.data.find((t) => t.playerUuid === id)).toMatchObject({ targetInstanceId: "game-1" });
    expect(await json(await proxy.post(`/transfer-ack/${id}`))).toEqual({ status: "acknowledged" });

    const audit = await json<{ data: Array<Record<string, unknown>> }>(
      await api("GET", `/audit?action=player.transfer&resourceId=${id}`),
    );
    expect(audit.data[0]).toMatchObject({
      action: "player.transfer",
      resourceType: "player",
      resourceId: id,
      details: { fromInstanceId: "lobby-1", targetInstanceId: "game-1" },
    });
  });

  test("refusals: unknown player or instance 404, target not RUNNING, no proxy or already there 409", async () => {
    const id = await online(lobby1);
    expect(await outcome(await transfer(uuid(), "game-1"))).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await outcome(await transfer(id, "nowhere-1"))).toEqual({
      status: 404,
      code: "INSTANCE_NOT_FOUND",
    });
    expect(await outcome(await transfer(id, "game-2"))).toEqual({ status: 409, code: "CONFLICT" });
    expect(await outcome(await transfer(id, "lobby-1"))).toEqual({ status: 409, code: "CONFLICT" });
    const direct = uuid();
    await lobby1.post("/player-join", { uuid: direct, name: "Direct" });
    expect(await outcome(await transfer(direct, "lobby-2"))).toEqual({ status: 409, code: "CONFLICT" });
    expect((await outcome(await api("POST", `/players/${id}/transfer`, {}))).status).toBe(422);
    await lobby1.post("/player-leave", { uuid: direct });
  });

  test("viewing needs players.view, transferring players.transfer", async () => {
    for (const [role, permissions] of [
      ["PLAYER_WATCHER", ["players.view"]],
      ["PLAYER_BLIND", []],
    ] as const) {
      expect((await api("POST", "/roles", { name: role, permissions })).status).toBe(201);
      const username = role.toLowerCase().replace("_", "-");
      const created = await api("POST", "/users", { username, password: `${username}-password`, role });
      expect(created.status).toBe(201);
    }
    const watcher = await h.ctl.login("player-watcher", "player-watcher-password");
    const blind = await h.ctl.login("player-blind", "player-blind-password");
    const id = await online(lobby1, "Delta");

    expect((await api("GET", "/players", undefined, watcher)).status).toBe(200);
    expect((await api("GET", `/players/${id}/journey`, undefined, watcher)).status).toBe(200);
    expect(await outcome(await transfer(id, "game-1", watcher))).toEqual({ status: 403, code: "FORBIDDEN" });
    expect(await h.ctl.running.store.collection("workflow_transfers").get(id)).toBeNull();
    for (const path of ["/players", `/players/${id}`, `/players/${id}/journey`])
      expect((await api("GET", path, undefined, blind)).status).toBe(403);
  });
});

describe("the journey log", () => {
  test("join, server switch, transfer and leave, newest first; limit and since honoured", async () => {
    const id = uuid();
    const name = "Echo";
    await proxy.post("/player-join", { uuid: id, name });
    await lobby1.post("/player-join", { uuid: id, name });
    await lobby1.post("/player-join", { uuid: id, name }); // repeated: no step
    await lobby2.post("/player-join", { uuid: id, name });
    await lobby1.post("/player-leave", { uuid: id }); // late leave of the old server: no step
    // Strictly later steps from here on, so `since` can cut between the switch and the transfer:
    // wait until the clock has moved past the newest step's (millisecond) timestamp.
    const newest = Date.parse((await journey(id))[0]!.timestamp);
    await waitFor(() => Date.now() > newest, { what: "the clock past the last step" });
    expect((await transfer(id, "game-1")).status).toBe(202);
    await game1.post("/player-join", { uuid: id, name });
    await proxy.post("/player-leave", { uuid: id });

    const all = await journey(id);
    expect(all.map((e) => [e.eventType, e.fromInstanceId, e.toInstanceId, e.group])).toEqual([
      ["LEAVE", "game-1", null, "game"],
      ["SERVER_SWITCH", "lobby-2", "game-1", "game"],
      ["TRANSFER", "lobby-2", "game-1", "game"],
      ["SERVER_SWITCH", "lobby-1", "lobby-2", "lobby"],
      ["JOIN", null, "lobby-1", "lobby"],
      ["JOIN", null, "proxy-1", "proxy"],
    ]);
    expect(all.every((e) => e.playerUuid === id && e.playerName === name)).toBe(true);
    const times = all.map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    expect((await journey(id, "?limit=2")).map((e) => e.eventType)).toEqual(["LEAVE", "SERVER_SWITCH"]);
    const since = all[2]!.timestamp;
    const recent = ["LEAVE", "SERVER_SWITCH", "TRANSFER"];
    expect((await journey(id, `?since=${since}`)).map((e) => e.eventType)).toEqual(recent);
    expect((await journey(id, `?since=${Date.parse(since)}`)).map((e) => e.eventType)).toEqual(recent);
    expect((await journey(id, `?since=${Date.parse(since)}&limit=1`)).map((e) => e.eventType)).toEqual([
      "LEAVE",
    ]);
    expect(await journey(id, `?since=${Date.now() + 60_000}`)).toEqual([]);
    // A player who was never seen has an empty journey, not a 404.
    expect(await journey(uuid())).toEqual([]);
  });

  test("bad limit or since is 400; a limit above the maximum is capped", async () => {
    const id = uuid();
    for (const query of ["?since=yesterday", "?since=2024-13-45", "?limit=0", "?limit=abc", "?limit=-3"])
      expect(await outcome(await api("GET", `/players/${id}/journey${query}`)), query).toEqual({
        status: 400,
        code: "BAD_REQUEST",
      });
    expect((await api("GET", `/players/${id}/journey?limit=100000`)).status).toBe(200);
  });

  test("every step is announced as PLAYER_JOURNEY", async () => {
    const id = uuid();
    await proxy.post("/player-join", { uuid: id, name: "Foxtrot" });
    await lobby1.post("/player-join", { uuid: id, name: "Foxtrot" });
    await proxy.post("/player-leave", { uuid: id });
    const entries = await waitFor(async () => {
      const res = await api("GET", "/events/recent?types=PLAYER_JOURNEY");
      const { data } = (await res.json()) as { data: Array<{ type: string; entry?: Journey[number] }> };
      const mine = data.filter((e) => e.type === "PLAYER_JOURNEY" && e.entry?.playerUuid === id);
      return mine.length === 3 ? mine.map((e) => e.entry!) : null;
    });
    expect(entries.map((e) => e.eventType).sort()).toEqual(["JOIN", "JOIN", "LEAVE"]);
    expect(entries.find((e) => e.eventType === "LEAVE")).toMatchObject({
      playerName: "Foxtrot",
      fromInstanceId: "lobby-1",
      group: "lobby",
    });
  });
});
