/**
 * The rest of the workload API over real HTTP: the sequence and token rules every plugin call
 * meets, SSE tickets a plugin trades its token for (and then really streams with), custom events,
 * metrics reports and the message routes that wait for their module.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RouteTable } from "../../../src/controller/http/route-table.ts";
import { workloadEventRoutes } from "../../../src/controller/http/routes/workload-event-routes.ts";
import { waitFor } from "../../support/wait.ts";
import { SseReader } from "../events/sse-reader.ts";
import {
  json,
  outcome,
  startWorkloadHarness,
  type WorkloadClient,
  type WorkloadHarness,
} from "./workload-harness.ts";

let h: WorkloadHarness;
let lobby: WorkloadClient;
let proxy: WorkloadClient;

beforeAll(async () => {
  h = await startWorkloadHarness([{ name: "lobby" }, { name: "proxy", platform: "VELOCITY" }]);
  await h.instance("lobby-1", "lobby");
  await h.instance("lobby-2", "lobby");
  await h.instance("proxy-1", "proxy");
  lobby = await h.client("lobby-1", "lobby", "/api/plugin");
  proxy = await h.client("proxy-1", "proxy", "/api/proxy");
});
afterAll(() => h.stop());

const uuid = () => crypto.randomUUID();

describe("sequence and token", () => {
  test("a mutating call without X-Prexor-Sequence is 400, a replayed one 401", async () => {
    const body = { uuid: uuid(), name: "Seq" };
    expect(await outcome(await lobby.raw("POST", "/player-join", body))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
    });
    expect(
      await outcome(await lobby.raw("POST", "/player-join", body, { "x-prexor-sequence": "-3" })),
    ).toEqual({ status: 400, code: "BAD_REQUEST" });
    expect((await lobby.post("/player-join", body)).status).toBe(200);
    const replay = await lobby.raw("POST", "/player-join", body, {
      "x-prexor-sequence": String(lobby.lastSequence),
    });
    expect(await outcome(replay)).toEqual({ status: 401, code: "UNAUTHORIZED" });
    // Every mutating workload route is sequenced, the message routes included.
    for (const path of ["/events", "/events/ticket", "/metrics", "/player-leave", "/ready", "/transfer"]) {
      expect({ path, ...(await outcome(await lobby.raw("POST", path, {}))) }).toEqual({
        path,
        status: 400,
        code: "BAD_REQUEST",
      });
    }
    expect((await outcome(await proxy.raw("POST", `/transfer-ack/${uuid()}`))).status).toBe(400);
    expect((await outcome(await proxy.raw("POST", "/messages/1/ack"))).status).toBe(400);
  });

  test("reads need a live token but no sequence; operator tokens and forged tokens are refused", async () => {
    expect((await lobby.raw("GET", "/players")).status).toBe(200);
    const withJwt = await fetch(`${h.ctl.url}/api/plugin/players`, {
      headers: { authorization: `Bearer ${h.admin}` },
    });
    expect(await outcome(withJwt)).toEqual({ status: 403, code: "FORBIDDEN" });
    const forged = await fetch(`${h.ctl.url}/api/plugin/players`, {
      headers: { authorization: `Bearer ptk_${"A".repeat(43)}` },
    });
    expect(await outcome(forged)).toEqual({ status: 401, code: "UNAUTHORIZED" });
    expect((await fetch(`${h.ctl.url}/api/proxy/players`)).status).toBe(401);
  });

  test("a token acts only for its own instance", async () => {
    const lobby2 = await h.client("lobby-2", "lobby", "/api/plugin");
    const id = uuid();
    await proxy.post("/player-join", { uuid: id, name: "Scoped" });
    await lobby.post("/player-join", { uuid: id, name: "Scoped" });
    // lobby-2 cannot take lobby-1's player off it, nor move them.
    expect((await json<{ status: string }>(await lobby2.post("/player-leave", { uuid: id }))).status).toBe(
      "unchanged",
    );
    expect(
      (await outcome(await lobby2.post("/transfer", { playerUuid: id, targetInstanceId: "lobby-2" }))).status,
    ).toBe(403);
    // Its metrics land on lobby-2, whatever it claims.
    expect(
      (await outcome(await lobby2.post("/metrics", { playerCount: 9, instanceId: "lobby-1" }))).status,
    ).toBe(422);
    expect((await lobby2.post("/metrics", { playerCount: 9 })).status).toBe(200);
    const own = await json(await h.ctl.call("GET", "/api/v1/services/lobby-2/metrics", { token: h.admin }));
    expect(own).toMatchObject({ instanceId: "lobby-2", playerCount: 9 });
    await proxy.post("/player-leave", { uuid: id });
  });

  test("a stopped instance's token is revoked: 401, and its players are gone", async () => {
    await h.instance("proxy-9", "proxy", "SCHEDULED");
    const doomed = await h.client("proxy-9", "proxy", "/api/proxy");
    const id = uuid();
    expect((await doomed.post("/player-join", { uuid: id, name: "Doomed" })).status).toBe(200);
    expect((await doomed.get("/players")).status).toBe(200);
    const stop = await h.ctl.call("POST", "/api/v1/services/proxy-9/stop", { token: h.admin });
    expect(stop.status).toBe(200);
    await waitFor(async () => (await doomed.get("/players")).status === 401, { what: "token revocation" });
    expect(await outcome(await doomed.post("/player-leave", { uuid: id }))).toEqual({
      status: 401,
      code: "UNAUTHORIZED",
    });
    await waitFor(
      async () => {
        const { data } = (await (await proxy.get("/players")).json()) as { data: Array<{ id: string }> };
        return !data.some((p) => p.id === id);
      },
      { what: "the stopped proxy's player to be removed" },
    );
  });
});

describe("events", () => {
  test("a ticket from the workload token opens the general stream and carries its custom event", async () => {
    const res = await lobby.post("/events/ticket");
    const { ticket } = await json<{ ticket: string }>(res);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const stream = await SseReader.open(`${h.ctl.url}/api/v1/events/stream?ticket=${ticket}`);
    try {
      await stream.next((f) => f.event === "connected");
      const posted = await lobby.post("/events", {
        type: "ARENA:STARTED",
        data: { arena: "a1", players: 4 },
      });
      expect(await json(posted)).toEqual({ status: "published" });
      const frame = await stream.next(
        (f) => f.event === "message" && JSON.parse(f.data).type === "ARENA:STARTED",
      );
      const event = JSON.parse(frame.data) as Record<string, unknown>;
      expect(event).toMatchObject({
        type: "ARENA:STARTED",
        source: "lobby-1",
        payload: { arena: "a1", players: 4 },
      });
      expect(typeof event.timestamp).toBe("string");
      expect(Number(frame.id)).toBe(event.sequence as number);
    } finally {
      stream.close();
    }
    // Single use: the same ticket is refused with a 401 envelope.
    const again = await fetch(`${h.ctl.url}/api/v1/events/stream?ticket=${ticket}`);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
  });

  test("the proxy gets tickets too, and they do not open instance consoles", async () => {
    const { ticket } = await json<{ ticket: string }>(await proxy.post("/events/ticket"));
    const refused = await fetch(`${h.ctl.url}/api/v1/services/lobby-1/console?ticket=${ticket}`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  });

  test("without the event system a ticket is 503 SERVICE_UNAVAILABLE", async () => {
    // The controller always runs one, so the route is mounted here without it.
    await h.instance("lobby-7", "lobby");
    const client = await h.client("lobby-7", "lobby", "/api/plugin");
    const table = new RouteTable();
    workloadEventRoutes(table, "/api/plugin", {
      auth: h.ctl.running.instances.auth,
      events: h.ctl.running.events,
    });
    const route = table.routes.find((r) => r.path === "/api/plugin/events/ticket")!;
    const request = new Request(`${h.ctl.url}/api/plugin/events/ticket`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.token}`, "x-prexor-sequence": "1" },
    });
    await route.guard!(request);
    const err = await Promise.resolve()
      .then(() => route.handler({ request } as never))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
  });

  test("custom events: built-in types, bad names, oversized data and unknown fields are refused", async () => {
    const post = (body: unknown) => proxy.post("/events", body).then(outcome);
    expect(await post({ type: "INSTANCE_STATE_CHANGED", data: {} })).toEqual({
      status: 422,
      code: "VALIDATION_ERROR",
    });
    expect((await post({ type: "lower_case" })).status).toBe(422);
    expect((await post({ type: "A".repeat(65) })).status).toBe(422);
    expect((await post({ type: "OK", extra: 1 })).status).toBe(422);
    expect(await post({ type: "BIG", data: { blob: "x".repeat(20_000) } })).toEqual({
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(await post({ type: "FINE" })).toEqual({ status: 200 });
  });
});

describe("metrics", () => {
  const report = {
    tps1m: 19.9,
    tps5m: 19.8,
    tps15m: 20,
    msptAvg: 12.5,
    heapUsedMb: 512,
    heapMaxMb: 2048,
    heapCommittedMb: 1024,
    gcCollections: 12,
    gcTimeMs: 340,
    threadCount: 40,
    daemonThreadCount: 20,
    playerCount: 3,
    maxPlayers: 100,
    worldCount: 1,
    totalEntities: 120,
    totalChunks: 400,
    worlds: [{ name: "world", environment: "NORMAL", entityCount: 120, chunkCount: 400, playerCount: 3 }],
    serverVersion: "1.21.4-R0.1",
    pluginCount: 7,
    uptimeMs: 60_000,
  };

  test("the latest report is kept and served to operators, and announced as INSTANCE_METRICS", async () => {
    const before = await h.ctl.call("GET", "/api/v1/services/lobby-1/metrics", { token: h.admin });
    expect(await outcome(before)).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await json(await lobby.post("/metrics", report))).toEqual({ status: "ok" });
    expect((await lobby.post("/metrics", { ...report, playerCount: 4 })).status).toBe(200);
    const latest = await json(
      await h.ctl.call("GET", "/api/v1/services/lobby-1/metrics", { token: h.admin }),
    );
    expect(latest).toMatchObject({
      ...report,
      playerCount: 4,
      instanceId: "lobby-1",
      group: "lobby",
      kind: "server",
    });
    expect(Date.parse(latest.receivedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    // Plain servers have no proxy metrics.
    const proxyView = await h.ctl.call("GET", "/api/v1/services/lobby-1/proxy-metrics", { token: h.admin });
    expect(proxyView.status).toBe(404);
    const event = await waitFor(async () => {
      const res = await h.ctl.call("GET", "/api/v1/events/recent?types=INSTANCE_METRICS", { token: h.admin });
      return ((await res.json()) as { data: Array<Record<string, unknown>> }).data.find(
        (e) => e.instanceId === "lobby-1" && e.playerCount === 4,
      );
    });
    expect(event).toMatchObject({ group: "lobby", tps1m: 19.9, serverVersion: "1.21.4-R0.1" });
  });

  test("operators need instances.view", async () => {
    expect((await h.ctl.call("GET", "/api/v1/services/lobby-1/metrics")).status).toBe(401);
  });

  test("numbers must be non-negative and finite; unknown fields are refused", async () => {
    const post = (body: string | object) => lobby.post("/metrics", body).then((r) => r.status);
    expect(await post({ tps1m: -1 })).toBe(422);
    expect(await post({ gcCollections: 1.5 })).toBe(422);
    expect(await post('{"heapUsedMb": 1e999}')).toBe(422);
    expect(await post({ tps1m: "20" })).toBe(422);
    expect(await post({ cpu: 1 })).toBe(422);
    expect(await post({ worlds: [{ name: "w", weather: "rain" }] })).toBe(422);
    expect(await post({})).toBe(422);
  });

  test("proxies report proxy metrics, served on both operator routes", async () => {
    const body = {
      playerCount: 2,
      maxPlayers: 500,
      heapUsedMb: 256,
      servers: [{ name: "lobby-1", playerCount: 2 }],
    };
    expect((await proxy.post("/metrics", body)).status).toBe(200);
    expect((await proxy.post("/metrics", { tps1m: 20 })).status).toBe(422);
    for (const path of ["metrics", "proxy-metrics"]) {
      const view = await json(
        await h.ctl.call("GET", `/api/v1/services/proxy-1/${path}`, { token: h.admin }),
      );
      expect(view).toMatchObject({ ...body, kind: "proxy", instanceId: "proxy-1" });
    }
  });
});

describe("messages", () => {
  test("without the message module the routes answer 503 MODULE_NOT_LOADED", async () => {
    const send = await lobby.post("/message/send", {
      fromUuid: uuid(),
      fromName: "A",
      toUuid: uuid(),
      toName: "B",
      content: "hi",
    });
    const envelope = await json<{ error: { code: string; message: string } }>(send, 503);
    expect(envelope.error.code).toBe("MODULE_NOT_LOADED");
    expect(envelope.error.message).toContain("message module");
    expect(await outcome(await proxy.get("/messages/pending"))).toEqual({
      status: 503,
      code: "MODULE_NOT_LOADED",
    });
    expect(await outcome(await proxy.post("/messages/m-1/ack"))).toEqual({
      status: 503,
      code: "MODULE_NOT_LOADED",
    });
  });
});
