/**
 * `prexorctl player …` against a stand-in controller: what each command asks the API for, how it
 * prints the answer in each output format, and the exit codes scripts branch on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { runCtl } from "../../../src/roles/ctl.ts";
import { tempDir } from "../../support/adapters.ts";

const STEVE = "069a79f4-44e9-4726-a5be-fca90e38aaf5";
const ALEX = "853c80ef-3c37-49fd-aa49-938b674adae6";
const players = [
  {
    id: STEVE,
    name: "Steve",
    currentInstance: "lobby-1",
    currentGroup: "lobby",
    proxyInstance: "proxy-1",
    connectedSince: new Date(Date.now() - 5 * 60_000).toISOString(),
    edition: "JAVA",
  },
  {
    id: ALEX,
    name: "Alex",
    currentInstance: "game-1",
    currentGroup: "game",
    proxyInstance: "proxy-1",
    connectedSince: new Date().toISOString(),
    edition: "BEDROCK",
  },
];
const journey = [
  {
    playerUuid: STEVE,
    playerName: "Steve",
    eventType: "SERVER_SWITCH",
    fromInstanceId: "lobby-2",
    toInstanceId: "lobby-1",
    group: "lobby",
    timestamp: "2030-01-01T00:01:00.000Z",
  },
  {
    playerUuid: STEVE,
    playerName: "Steve",
    eventType: "JOIN",
    fromInstanceId: null,
    toInstanceId: "lobby-2",
    group: "lobby",
    timestamp: "2030-01-01T00:00:00.000Z",
  },
];

const seen: Array<{ method: string; path: string; query: URLSearchParams; body: string }> = [];
const envelope = (status: number, code: string, message: string) =>
  Response.json({ error: { code, message, requestId: "r1" } }, { status });

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const body = await req.text();
    seen.push({ method: req.method, path: url.pathname, query: url.searchParams, body });
    if (req.headers.get("authorization") === "Bearer weak" && req.method === "POST")
      return envelope(403, "FORBIDDEN", "missing permission players.transfer");
    const [, , , resource, id, action] = url.pathname.split("/");
    if (resource !== "players")
      return envelope(404, "NOT_FOUND", `no route for ${req.method} ${url.pathname}`);
    if (!id) return Response.json({ data: players, page: 1, pageSize: 500, total: players.length });
    const player = players.find((p) => p.id === id);
    if (action === "journey") return Response.json({ data: id === STEVE ? journey : [] });
    if (!player) return envelope(404, "NOT_FOUND", `player ${id} is not online`);
    if (action === "transfer") {
      const { targetInstanceId } = JSON.parse(body) as { targetInstanceId: string };
      if (targetInstanceId === "busy-1") return envelope(409, "CONFLICT", "instance busy-1 is STARTING");
      return Response.json(
        {
          status: "pending",
          transfer: { playerUuid: id, targetInstanceId, proxyInstanceId: "proxy-1", createdAt: "x" },
        },
        { status: 202 },
      );
    }
    return Response.json(player);
  },
});

const saved: Record<string, string | undefined> = {};
const ENV = {
  PREXOR_CONTROLLER: `http://127.0.0.1:${server.port}`,
  PREXOR_TOKEN: "tok",
  XDG_CONFIG_HOME: tempDir("prexorctl-player-"),
  NO_COLOR: "1",
  PREXOR_OUTPUT: "",
  PREXOR_CONTEXT: "",
};
beforeAll(() => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  server.stop(true);
});

/** Runs prexorctl in-process, capturing what it prints. */
async function ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await runCtl(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe("prexorctl player", () => {
  test("list: a table, filtered; names and JSON for scripts", async () => {
    const table = await ctl("player", "list");
    expect(table.code).toBe(0);
    expect(table.out).toContain("UUID");
    expect(table.out).toContain("Steve");
    expect(table.out).not.toContain("EDITION");
    expect((await ctl("player", "list", "-o", "wide")).out).toContain("BEDROCK");
    const lobby = await ctl("player", "list", "--group", "lobby", "-o", "name");
    expect(lobby.out).toBe(`player/${STEVE}`);
    const json = JSON.parse((await ctl("player", "list", "-o", "json")).out) as Array<{ id: string }>;
    expect(json.map((p) => p.id)).toEqual([STEVE, ALEX]);
    const none = await ctl("player", "list", "--instance", "nowhere");
    expect({ code: none.code, out: none.out, err: none.err }).toEqual({
      code: 0,
      out: "",
      err: "No players found.",
    });
  });

  test("get: by UUID or by name; an unknown player is exit 4", async () => {
    const byId = await ctl("player", "get", STEVE, "-o", "yaml");
    expect(parse(byId.out)).toMatchObject({ id: STEVE, name: "Steve", currentInstance: "lobby-1" });
    seen.length = 0;
    const byName = await ctl("player", "get", "alex");
    expect(byName.code).toBe(0);
    expect(byName.out).toContain(`UUID:     ${ALEX}`);
    expect(seen.at(-1)?.path).toBe(`/api/v1/players/${ALEX}`);
    expect((await ctl("player", "get", "Herobrine")).code).toBe(4);
    expect((await ctl("player", "get", crypto.randomUUID())).code).toBe(4);
  });

  test("journey: passes --limit and --since on, newest first as the controller answers", async () => {
    seen.length = 0;
    const res = await ctl("player", "journey", STEVE, "--since", "2h", "--limit", "5");
    expect(res.code).toBe(0);
    const asked = seen.at(-1)!;
    expect(asked.path).toBe(`/api/v1/players/${STEVE}/journey`);
    expect(asked.query.get("limit")).toBe("5");
    expect(Date.now() - Date.parse(asked.query.get("since")!)).toBeGreaterThan(2 * 3_600_000 - 60_000);
    const lines = res.out.split("\n");
    expect(lines[0]).toMatch(/^TIME\s+EVENT\s+FROM\s+TO\s+GROUP$/);
    expect(lines[1]).toContain("SERVER_SWITCH");
    expect(lines[2]).toContain("JOIN");
    expect((await ctl("player", "journey", STEVE, "--limit", "0")).code).toBe(2);
    expect((await ctl("player", "journey", STEVE, "--since", "whenever")).code).toBe(2);
    expect((await ctl("player", "journey", ALEX)).err).toBe("No journey entries found.");
  });

  test("transfer: POSTs the target; refusals map to exit codes", async () => {
    seen.length = 0;
    const ok = await ctl("player", "transfer", "Steve", "--to", "game-1");
    expect(ok.code).toBe(0);
    expect(ok.out).toBe(`player ${STEVE} queued for transfer to game-1 (carried out by proxy-1)`);
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      path: `/api/v1/players/${STEVE}/transfer`,
      body: JSON.stringify({ targetInstanceId: "game-1" }),
    });
    const json = JSON.parse((await ctl("player", "transfer", STEVE, "--to", "game-1", "-o", "json")).out);
    expect(json).toMatchObject({ status: "pending", transfer: { targetInstanceId: "game-1" } });

    expect((await ctl("player", "transfer", STEVE)).code).toBe(2);
    const busy = await ctl("player", "transfer", STEVE, "--to", "busy-1");
    expect(busy.code).toBe(5);
    expect(busy.err).toContain("CONFLICT: instance busy-1 is STARTING");
    process.env.PREXOR_TOKEN = "weak";
    try {
      expect((await ctl("player", "transfer", STEVE, "--to", "game-1")).code).toBe(3);
    } finally {
      process.env.PREXOR_TOKEN = "tok";
    }
  });
});
