import { afterAll, beforeAll, expect, test } from "bun:test";
import { TokenService } from "../../../src/controller/auth/token-service.ts";
import type { RouteDef } from "../../../src/controller/http/route-table.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

const SECRET = Buffer.alloc(32, 5).toString("base64");
let ctl: TestController;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  ctl = await startTestController("", (c) => {
    c.security.jwtSecret = SECRET;
    c.http.maxBodyBytes = 64 * 1024;
  });
  const revoked = await ctl.login();
  await ctl.call("POST", "/api/v1/auth/logout", { token: revoked });
  tokens.revoked = revoked;
  const past = new TokenService(SECRET, [], 60, new MemoryCoordination(), () => Date.now() - 3_600_000);
  tokens.expired = (await past.issue("admin", "ADMIN")).token;
  const forger = new TokenService(Buffer.alloc(32, 6).toString("base64"), [], 3600, new MemoryCoordination());
  tokens.forged = (await forger.issue("admin", "ADMIN")).token;
  tokens.garbage = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl";
  tokens.basic = "x"; // sent as "Bearer x": far too short to be a token
  tokens.unicode = "ñññññññññññññ.ü.ö";
  tokens.admin = await ctl.login();
});
afterAll(() => ctl.stop());

const NASTY_PARAMS = [
  "..%2F..%2Fetc%2Fpasswd",
  "%252e%252e%252f",
  "..",
  "-leading-dash",
  "%00",
  "%F0%9F%92%A5",
  "a".repeat(300),
  "UPPER CASE",
  "%2e%2e",
  "name%0Ainjected",
];
const WRONG_VALUES: unknown[] = [
  null,
  -1,
  1.5,
  true,
  "",
  "x".repeat(5000),
  [],
  {},
  "../../etc/passwd",
  "💥\u0000",
  { $gt: "" },
  1e308,
];

function fieldsOf(route: RouteDef): string[] {
  const props = (route.body as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : ["name"];
}

interface Probe {
  label: string;
  method: string;
  path: string;
  token?: string;
  body?: string;
  contentType?: string;
}

function probes(route: RouteDef): Probe[] {
  const out: Probe[] = [];
  const path = route.path.replace(/:[A-Za-z]+/g, "x1");
  const label = `${route.method} ${route.path}`;
  const guarded = route.access !== "public" && route.access !== "ticket";
  if (guarded) {
    out.push({ label: `${label} no auth`, method: route.method, path });
    for (const kind of ["expired", "revoked", "forged", "garbage", "basic", "unicode"]) {
      out.push({ label: `${label} ${kind} token`, method: route.method, path, token: tokens[kind] });
    }
  }
  const token = guarded ? tokens.admin : undefined;
  if (route.body) {
    out.push({
      label: `${label} bad JSON`,
      method: route.method,
      path,
      token,
      body: '{"name": ',
      contentType: "application/json",
    });
    out.push({
      label: `${label} text body`,
      method: route.method,
      path,
      token,
      body: "name=x",
      contentType: "text/plain",
    });
    out.push({
      label: `${label} form body`,
      method: route.method,
      path,
      token,
      body: "name=%00&x=1",
      contentType: "application/x-www-form-urlencoded",
    });
    out.push({
      label: `${label} JSON array`,
      method: route.method,
      path,
      token,
      body: "[1,2,3]",
      contentType: "application/json",
    });
    out.push({
      label: `${label} huge`,
      method: route.method,
      path,
      token,
      body: JSON.stringify({ x: "y".repeat(200_000) }),
      contentType: "application/json",
    });
    for (const value of WRONG_VALUES) {
      const body = Object.fromEntries(fieldsOf(route).map((f) => [f, value]));
      out.push({
        label: `${label} fields=${JSON.stringify(value)?.slice(0, 20)}`,
        method: route.method,
        path,
        token,
        body: JSON.stringify(body),
        contentType: "application/json",
      });
    }
  }
  if (route.params) {
    for (const nasty of NASTY_PARAMS) {
      out.push({
        label: `${label} param ${nasty.slice(0, 20)}`,
        method: route.method,
        path: route.path.replace(/:[A-Za-z]+/g, nasty),
        token,
        ...(route.body ? { body: "{}", contentType: "application/json" } : {}),
      });
    }
  }
  if (route.query) {
    out.push({
      label: `${label} bad paging`,
      method: route.method,
      path: `${path}?page=-1&pageSize=abc`,
      token,
    });
    out.push({
      label: `${label} huge page`,
      method: route.method,
      path: `${path}?page=1&pageSize=99999999`,
      token,
    });
  }
  return out;
}

test("hundreds of malformed requests across all routes: every answer is a 4xx envelope and the server keeps serving", async () => {
  const all = ctl.running.routes.routes.flatMap(probes);
  expect(all.length).toBeGreaterThanOrEqual(500);
  const failures: string[] = [];
  for (const probe of all) {
    const res = await fetch(`${ctl.url}${probe.path}`, {
      method: probe.method,
      headers: {
        ...(probe.token ? { authorization: `Bearer ${probe.token}` } : {}),
        ...(probe.contentType ? { "content-type": probe.contentType } : {}),
      },
      body: probe.body,
    });
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    if (res.status < 400 || res.status >= 500 || typeof code !== "string") {
      failures.push(`${probe.label} → ${res.status} ${text.slice(0, 120)}`);
    }
  }
  expect(failures).toEqual([]);
  const health = await fetch(`${ctl.url}/api/v1/system/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe("UP");
});
