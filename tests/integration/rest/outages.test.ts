/**
 * The outage contract (issue 11, failure 7), on a production controller whose MongoDB and Redis
 * links run through fault proxies: with MongoDB paused a mutation answers 503 STORE_UNAVAILABLE
 * with Retry-After inside 3 s and readiness says which dependency is down inside 1 s; with Redis
 * gone reads keep answering 200 while mutations answer 503 COORDINATION_UNAVAILABLE; both recover
 * by themselves once the fault heals.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningController, startController } from "../../../src/controller/boot.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { FaultProxy } from "../../support/fault-proxy.ts";
import { mongoServer, redisServer } from "../../support/servers.ts";
import { tempDir } from "../../support/temp-dirs.ts";
import { randomId, waitFor } from "../../support/wait.ts";
import { adminApi, customGroup, fleetConfig } from "../scheduler/fleet-harness.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;

const portOf = (uri: string) => Number(new URL(uri).port);

describe.skipIf(skip !== undefined)("outages", () => {
  let mongoProxy: FaultProxy;
  let redisProxy: FaultProxy;
  let controller: RunningController;
  let api: Awaited<ReturnType<typeof adminApi>>;
  let base: string;

  beforeAll(async () => {
    mongoProxy = await FaultProxy.start(portOf(mongo.server!.uri));
    redisProxy = await FaultProxy.start(portOf(redis.server!.uri));
    const root = tempDir("prexor-outage-");
    const yaml = [
      "runtime:",
      "  profile: production",
      "database:",
      `  uri: mongodb://127.0.0.1:${mongoProxy.port}`,
      `  database: ${randomId("outage_")}`,
      "  operationTimeoutMs: 1500",
      "redis:",
      `  uri: redis://127.0.0.1:${redisProxy.port}`,
      "  connectTimeoutMs: 1000",
      "modules:",
      "  signing:",
      "    required: false",
    ].join("\n");
    controller = await startController({
      root,
      config: fleetConfig(root, 3600, yaml, "outage-suite-cluster-secret-012345"),
      log: silentLogger(),
    });
    api = await adminApi(controller);
    base = `http://127.0.0.1:${controller.httpPort}`;
  });

  afterAll(async () => {
    mongoProxy.heal();
    redisProxy.heal();
    await controller?.stop();
    await mongoProxy?.stop();
    await redisProxy?.stop();
  });

  test("MongoDB paused: mutations 503 STORE_UNAVAILABLE within 3 s, readiness DOWN within 1 s, then recovery", async () => {
    mongoProxy.pause();
    try {
      const started = performance.now();
      const res = await api("POST", "/api/v1/groups", customGroup(randomId("paused")));
      const elapsed = performance.now() - started;
      console.log(
        `outage: POST /groups with MongoDB paused answered ${res.status} in ${Math.round(elapsed)} ms`,
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).not.toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("STORE_UNAVAILABLE");
      expect(elapsed).toBeLessThan(3000);

      const readyStarted = performance.now();
      const ready = await fetch(`${base}/api/v1/system/ready`);
      const readyMs = performance.now() - readyStarted;
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({
        store: "DOWN",
        coordination: "UP",
      });
      expect(readyMs).toBeLessThan(1000);
    } finally {
      mongoProxy.heal();
    }
    await waitFor(
      async () => (await api("POST", "/api/v1/groups", customGroup(randomId("healed")))).status === 201,
      { timeoutMs: 30_000, intervalMs: 250, what: "writes to work again once MongoDB is back" },
    );
  }, 60_000);

  test("Redis gone: reads 200, mutations 503 COORDINATION_UNAVAILABLE, then recovery", async () => {
    const name = randomId("coord");
    expect((await api("POST", "/api/v1/groups", customGroup(name))).status).toBe(201);
    redisProxy.cut();
    try {
      const read = await api("GET", "/api/v1/groups");
      expect(read.status).toBe(200);
      expect(JSON.stringify(await read.json())).toContain(name);
      const write = await api("POST", "/api/v1/groups", customGroup(randomId("refused")));
      expect(write.status).toBe(503);
      expect(write.headers.get("retry-after")).not.toBeNull();
      expect(((await write.json()) as { error: { code: string } }).error.code).toBe(
        "COORDINATION_UNAVAILABLE",
      );
      const ready = await fetch(`${base}/api/v1/system/ready`);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.coordination).toBe("DOWN");
    } finally {
      redisProxy.heal();
    }
    await waitFor(
      async () => (await api("POST", "/api/v1/groups", customGroup(randomId("back")))).status === 201,
      { timeoutMs: 30_000, intervalMs: 250, what: "mutations to work again once Redis is back" },
    );
  }, 60_000);
});
