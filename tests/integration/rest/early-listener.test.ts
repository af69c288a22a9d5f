import { afterEach, describe, expect, test } from "bun:test";
import { type EarlyListener, listenEarly } from "../../../src/controller/http/early-listener.ts";

/** The REST port as bound before the controller's stack loads: a real Bun.serve on loopback. */
describe("early REST listener", () => {
  let listener: EarlyListener | undefined;
  afterEach(async () => {
    await listener?.stop();
    listener = undefined;
  });
  const bind = () => {
    listener = listenEarly({
      host: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 1024 * 1024,
      controllerId: "ctl-early",
      profile: "development",
      startedAt: 0,
      now: () => 5_000,
    });
    return `http://127.0.0.1:${listener.port}`;
  };

  test("liveness answers 200 with the controller's identity on both paths", async () => {
    const base = bind();
    for (const path of ["/health", "/api/v1/system/health"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        status: "UP",
        controllerId: "ctl-early",
        profile: "development",
        uptimeSeconds: 5,
      });
    }
  });

  test("readiness is 503 naming the step still starting, on both paths", async () => {
    const base = bind();
    await listener!.starting("cluster CA");
    for (const path of ["/ready", "/api/v1/system/ready"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; reason: string; checks: Record<string, string> };
      expect(body.status).toBe("DOWN");
      expect(body.reason).toBe("starting: cluster CA");
      expect(body.checks.startup).toBe("DOWN");
    }
  });

  test("every other route is a 503 UNAVAILABLE envelope with Retry-After, bodies included", async () => {
    const base = bind();
    const requests: Array<[string, string, string | undefined]> = [
      ["GET", "/api/v1/groups", undefined],
      ["POST", "/api/v1/auth/login", JSON.stringify({ username: "admin", password: "x" })],
      ["DELETE", "/api/v1/services/abc", undefined],
      ["GET", "/no/such/route", undefined],
    ];
    for (const [method, path, body] of requests) {
      const res = await fetch(`${base}${path}`, {
        method,
        body,
        headers: { "content-type": "application/json", "x-request-id": "req-1" },
      });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      const envelope = (await res.json()) as { error: { code: string; requestId: string; message: string } };
      expect(envelope.error.code).toBe("UNAVAILABLE");
      expect(envelope.error.requestId).toBe("req-1");
      expect(envelope.error.message).toContain("starting");
    }
  });

  test("serve() hands every request to the full surface on the same port", async () => {
    const base = bind();
    listener!.serve((request) => Response.json({ path: new URL(request.url).pathname }, { status: 201 }));
    const res = await fetch(`${base}/api/v1/groups`);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ path: "/api/v1/groups" });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(201);
  });
});
