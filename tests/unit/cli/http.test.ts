import { afterAll, describe, expect, test } from "bun:test";
import { createApi } from "../../../src/cli/client/api.ts";
import { HttpClient, missingResource, routePatterns } from "../../../src/cli/client/http.ts";
import { ApiError, UnreachableError } from "../../../src/cli/errors.ts";
import { freePort } from "../../support/ports.ts";

const seen: Array<{ method: string; path: string; auth: string | null; body: string }> = [];
// A stand-in controller: answers like the real one for the few routes these tests need.
let release: () => void = () => {};
const hold = new Promise<void>((resolve) => {
  release = resolve;
});
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      body: await req.text(),
    });
    const envelope = (status: number, code: string, message: string) =>
      Response.json({ error: { code, message, requestId: "r1" } }, { status });
    if (url.pathname === "/api/v1/openapi.json")
      return Response.json({
        paths: { "/api/v1/groups/{name}": { get: {}, patch: {} }, "/api/v1/groups": { get: {} } },
      });
    if (url.pathname === "/api/v1/groups" && req.method === "GET") {
      const page = Number(url.searchParams.get("page"));
      const size = Number(url.searchParams.get("pageSize"));
      const all = Array.from({ length: 5 }, (_, i) => ({ name: `g${i}` }));
      return Response.json({
        data: all.slice((page - 1) * 2, page * 2),
        page,
        pageSize: size,
        total: all.length,
      });
    }
    if (url.pathname === "/api/v1/groups/ghost")
      return envelope(404, "NOT_FOUND", "no route for GET /api/v1/groups/ghost");
    if (url.pathname === "/api/v1/groups/taken")
      return envelope(409, "CONFLICT", 'group "taken" already exists');
    if (url.pathname === "/api/v1/groups/x/start")
      return envelope(404, "NOT_FOUND", "no route for POST /api/v1/groups/x/start");
    if (url.pathname === "/proxy-error") return new Response("<html>Bad Gateway</html>", { status: 502 });
    if (url.pathname === "/slow") {
      // Never answers until the suite ends: the client's own timeout is what ends the request.
      await hold;
      return new Response("{}");
    }
    return envelope(404, "NOT_FOUND", `no route for ${req.method} ${url.pathname}`);
  },
});
afterAll(() => {
  release();
  server.stop(true);
});
const base = `http://127.0.0.1:${server.port}`;

describe("the REST client", () => {
  test("sends the bearer token (except where told not to) and follows pages to the end", async () => {
    const api = createApi(new HttpClient({ server: base, token: "tok", timeoutMs: 5000 }));
    seen.length = 0;
    // pageSize 500 is asked for; this server pages by 2 anyway, and the client follows `total`
    const groups = await api.groups.list();
    expect(groups.map((g) => g.name)).toEqual(["g0", "g1", "g2", "g3", "g4"]);
    expect(seen.map((s) => s.path)).toEqual([
      "/api/v1/groups?page=1&pageSize=500",
      "/api/v1/groups?page=2&pageSize=500",
      "/api/v1/groups?page=3&pageSize=500",
    ]);
    expect(seen.every((s) => s.auth === "Bearer tok")).toBe(true);
    seen.length = 0;
    await api.system.version().catch(() => undefined);
    expect(seen[0]!.auth).toBeNull();
  });

  test("error envelopes become ApiError with code, message and request id", async () => {
    const http = new HttpClient({ server: base, timeoutMs: 5000 });
    const err = (await http.json("GET", "/api/v1/groups/taken").catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 409,
      code: "CONFLICT",
      message: 'group "taken" already exists',
      requestId: "r1",
    });
    const proxy = (await http.json("GET", "/proxy-error").catch((e) => e)) as ApiError;
    expect(proxy).toMatchObject({ status: 502, code: "HTTP_502", message: "<html>Bad Gateway</html>" });
  });

  test("a 'no route' answer for a route the controller documents is a missing resource", async () => {
    const http = new HttpClient({ server: base, timeoutMs: 5000 });
    const missing = (await http.json("GET", "/api/v1/groups/ghost").catch((e) => e)) as ApiError;
    expect(missing).toMatchObject({
      status: 404,
      code: "NOT_FOUND",
      message: 'group "ghost" not found',
      noRoute: false,
    });
    const noRoute = (await http.json("POST", "/api/v1/groups/x/start").catch((e) => e)) as ApiError;
    expect(noRoute.noRoute).toBe(true);
  });

  test("unreachable and silent controllers say so clearly", async () => {
    const closed = await freePort();
    const refused = await new HttpClient({ server: `http://127.0.0.1:${closed}`, timeoutMs: 5000 })
      .json("GET", "/api/v1/system/version")
      .catch((e) => e);
    expect(refused).toBeInstanceOf(UnreachableError);
    expect((refused as Error).message).toStartWith(
      `cannot reach the controller at http://127.0.0.1:${closed}: `,
    );
    const slow = await new HttpClient({ server: base, timeoutMs: 200 }).json("GET", "/slow").catch((e) => e);
    expect(slow).toBeInstanceOf(UnreachableError);
    expect((slow as Error).message).toContain("no answer within");
  });
});

describe("route helpers", () => {
  test("OpenAPI templates match concrete paths", () => {
    const patterns = routePatterns({ "/api/v1/groups/{name}/start": { post: {} } });
    expect(patterns.get("post")![0]!.test("/api/v1/groups/lobby/start")).toBe(true);
    expect(patterns.get("post")![0]!.test("/api/v1/groups/lobby/stop")).toBe(false);
  });

  test("missing resources are named after their collection", () => {
    expect(missingResource("/api/v1/groups/lobby")).toBe('group "lobby" not found');
    expect(missingResource("/api/v1/services/lobby-1/command")).toBe('instance "lobby-1" not found');
    expect(missingResource("/api/v1/admin/tokens/t1")).toBe('join token "t1" not found');
    expect(missingResource("/api/v1/templates/a/versions/abc")).toBe('version "abc" not found');
  });
});
