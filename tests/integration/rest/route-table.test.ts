import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RouteDef } from "../../../src/controller/http/route-table.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

/** The six routes the product documents as public under /api/v1. */
const DOCUMENTED_PUBLIC = [
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/password-reset/request",
  "POST /api/v1/auth/password-reset/complete",
  "GET /api/v1/system/health",
  "GET /api/v1/system/ready",
  "GET /api/v1/system/version",
].sort();

let ctl: TestController;
let nobodyToken: string;
let adminToken: string;

beforeAll(async () => {
  ctl = await startTestController();
  adminToken = await ctl.login();
  expect(
    (
      await ctl.call("POST", "/api/v1/roles", {
        token: adminToken,
        body: { name: "NOTHING", permissions: [] },
      })
    ).status,
  ).toBe(201);
  const created = await ctl.call("POST", "/api/v1/users", {
    token: adminToken,
    body: { username: "nobody", password: "nobody-password", role: "NOTHING" },
  });
  expect(created.status).toBe(201);
  nobodyToken = await ctl.login("nobody", "nobody-password");
});
afterAll(() => ctl.stop());

function concretePath(route: RouteDef): string {
  return route.path.replace(/:[A-Za-z]+/g, "x1");
}

async function hit(route: RouteDef, token?: string): Promise<number> {
  const withBody = route.method !== "GET" && route.method !== "DELETE";
  const res = await ctl.call(route.method, concretePath(route), { token, body: withBody ? {} : undefined });
  await res.arrayBuffer();
  return res.status;
}

describe("route table", () => {
  test("exactly the six documented routes under /api/v1 are public", () => {
    const routes = ctl.running.routes.routes;
    const publicApi = routes
      .filter((r) => r.access === "public" && r.path.startsWith("/api/v1/"))
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(publicApi).toEqual(DOCUMENTED_PUBLIC);
    // Outside /api/v1 only the probe and scrape paths are public.
    const publicOther = routes
      .filter((r) => r.access === "public" && !r.path.startsWith("/api/v1/"))
      .map((r) => r.path);
    for (const path of publicOther) expect(["/health", "/ready", "/metrics"]).toContain(path);
  });

  test("every public route answers without credentials", async () => {
    for (const route of ctl.running.routes.routes.filter((r) => r.access === "public")) {
      const status = await hit(route);
      expect({ route: `${route.method} ${route.path}`, status }).not.toMatchObject({ status: 401 });
      expect(status).not.toBe(403);
    }
  });

  test("every other route answers 401 without a token", async () => {
    const guarded = ctl.running.routes.routes.filter((r) => r.access !== "public" && r.access !== "ticket");
    expect(guarded.length).toBeGreaterThan(10);
    for (const route of guarded) {
      expect({ route: `${route.method} ${route.path}`, status: await hit(route) }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
      });
    }
  });

  test("every permission-guarded route answers 403 to a role lacking the permission", async () => {
    const guarded = ctl.running.routes.routes.filter(
      (r) => !["public", "ticket", "authenticated"].includes(r.access),
    );
    for (const route of guarded) {
      expect({ route: `${route.method} ${route.path}`, status: await hit(route, nobodyToken) }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 403,
      });
    }
  });

  test("routes open to any operator let a role without permissions through", async () => {
    const open = ctl.running.routes.routes.filter(
      (r) => r.access === "authenticated" && r.path !== "/api/v1/auth/logout",
    );
    expect(open.length).toBeGreaterThan(0);
    for (const route of open) {
      const status = await hit(route, nobodyToken);
      expect([401, 403]).not.toContain(status);
    }
  });

  test("the OpenAPI document lists every route with its access", async () => {
    const res = await ctl.call("GET", "/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { description?: string }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const route of ctl.running.routes.routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect({ path, method: route.method, present: Boolean(op) }).toEqual({
        path,
        method: route.method,
        present: true,
      });
      expect(op!.description).toContain(`Access: ${route.access}`);
    }
  });

  test("every route documents its success answer, and every JSON body with only what has no default required", async () => {
    const doc = (await (await ctl.call("GET", "/api/v1/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
            requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
          }
        >
      >;
    };
    const undocumented: string[] = [];
    for (const route of ctl.running.routes.routes) {
      const op = doc.paths[route.path.replace(/:([A-Za-z]+)/g, "{$1}")]![route.method.toLowerCase()]!;
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith("2"));
      // "none": the route always refuses in this build (a feature that is not here).
      if (route.response === "none") {
        expect(success).toEqual([]);
        continue;
      }
      const schemas = success.flatMap(([, r]) => Object.values(r.content ?? {}).map((c) => c.schema));
      if (schemas.length === 0 || schemas.some((s) => s === undefined))
        undocumented.push(`${route.method} ${route.path}`);
      if (route.body) {
        const documented = op.requestBody?.content["application/json"]?.schema;
        expect(documented).toBeDefined();
      }
    }
    expect(undocumented).toEqual([]);
    // The group body: a name is all a client must send; everything else has a default.
    const group = doc.paths["/api/v1/groups"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(group.required).toEqual(["name"]);
  });
});
