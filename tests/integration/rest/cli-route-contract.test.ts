import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApi } from "../../../src/cli/client/api.ts";
import { HttpClient } from "../../../src/cli/client/http.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

/**
 * The CLI speaks the controller's contract (issue 14 item 5): every method + path prexorctl's REST
 * client calls is a route in the controller's table. The client runs for real against a recording
 * HTTP server on loopback; the table is the one a real in-process controller built at boot.
 */

let ctl: TestController;
beforeAll(async () => {
  ctl = await startTestController();
});

/**
 * Calls the client makes to routes not in the table yet, each named so it cannot hide: the test
 * fails for any other missing route, and fails for one of these as soon as the route exists (then
 * it comes off this list).
 */
const PENDING = new Set<string>([]);

/** `/api/v1/groups/:name` matches `/api/v1/groups/x1`. */
function routeFor(method: string, path: string): string | undefined {
  return ctl.running.routes.routes
    .filter((r) => r.method === method)
    .find((r) => new RegExp(`^${r.path.replace(/:[A-Za-z]+/g, "[^/]+")}$`).test(path))?.path;
}

const calls: Array<{ method: string; path: string }> = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    calls.push({ method: req.method, path: new URL(req.url).pathname });
    return Response.json({ data: [], total: 0, ticket: "t", active: null, status: "UP" });
  },
});
afterAll(async () => {
  server.stop(true);
  await ctl.stop();
});

const api = createApi(
  new HttpClient({ server: `http://127.0.0.1:${server.port}`, token: "t", timeoutMs: 5000 }),
);

/** Arguments per client method where placeholders would not reach the request (or miss a variant). */
const ARGS: Record<string, unknown[][]> = {
  "instances.stop": [
    ["x1", false],
    ["x1", true],
  ],
  "nodes.drain": [["x1", { shutdown: false, timeout: 5 }]],
  "crashes.list": [[{ pageSize: 1 }]],
  "instances.list": [[{}]],
  "players.journey": [["x1", {}]],
  "audit.query": [[{}]],
  "templates.upload": [["x1", new Uint8Array(1), 1]],
  "catalog.upload": [["x1", "x1", new Uint8Array(1), 1]],
  "maintenance.set": [[true]],
  "backups.restore": [[{ id: "x1", dryRun: true, filesystem: false, datastores: true }]],
};

/** Every client method, by dotted name (`groups.list`), and the requests it made. */
async function exercise(): Promise<Map<string, Array<{ method: string; path: string }>>> {
  const made = new Map<string, Array<{ method: string; path: string }>>();
  for (const [group, methods] of Object.entries(api)) {
    if (group === "http" || typeof methods !== "object") continue;
    for (const [name, fn] of Object.entries(methods as Record<string, unknown>)) {
      // path builders (`consolePath`) are checked with the stream paths below
      if (typeof fn !== "function" || name.endsWith("Path")) continue;
      const key = `${group}.${name}`;
      const before = calls.length;
      for (const args of ARGS[key] ?? [["x1", "x1", "x1"]]) {
        await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      }
      made.set(key, calls.slice(before));
    }
  }
  return made;
}

describe("prexorctl's REST client against the route table", () => {
  test("every method and path it calls is a route the controller declares", async () => {
    const made = await exercise();
    expect([...made].filter(([, requests]) => requests.length === 0).map(([key]) => key)).toEqual([]);
    const missing = [...made].flatMap(([key, requests]) =>
      requests.filter((r) => !routeFor(r.method, r.path)).map((r) => `${key}: ${r.method} ${r.path}`),
    );
    expect(missing.filter((m) => !PENDING.has(m))).toEqual([]);
    expect(
      [...PENDING].filter((p) => !missing.includes(p)),
      "pending routes that now exist",
    ).toEqual([]);
  });

  test("the stream and console paths it opens are routes too", () => {
    expect(routeFor("GET", api.events.streamPath)).toBeDefined();
    expect(routeFor("GET", api.instances.consolePath("x1"))).toBeDefined();
  });

  test("the check can fail: a path the controller does not serve is not matched", () => {
    expect(routeFor("POST", "/api/v1/groups/x1/explode")).toBeUndefined();
    expect(routeFor("DELETE", "/api/v1/system/version")).toBeUndefined();
  });
});
