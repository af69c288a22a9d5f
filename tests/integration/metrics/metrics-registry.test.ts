import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { instrumentCoordination } from "../../../src/controller/metrics/coordination-metrics.ts";
import { requestMetrics } from "../../../src/controller/metrics/http-metrics.ts";
import {
  createMetrics,
  methodLabel,
  statusClass,
  untypeTotalGauges,
} from "../../../src/controller/metrics/metrics.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";

/** The Metrics object and its adapters without a controller around them. */
function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

describe("labels and exposition", () => {
  test("status classes and method labels are bounded", () => {
    expect([101, 200, 204, 302, 404, 429, 503].map(statusClass)).toEqual([
      "1xx",
      "2xx",
      "2xx",
      "3xx",
      "4xx",
      "4xx",
      "5xx",
    ]);
    expect([undefined, 0, 99, 600, 20.5].map(statusClass)).toEqual([
      "unknown",
      "unknown",
      "unknown",
      "unknown",
      "unknown",
    ]);
    expect(["GET", "Post", "delete", "PROPFIND"].map(methodLabel)).toEqual([
      "get",
      "post",
      "delete",
      "other",
    ]);
  });

  test("only gauges named …_total become untyped", () => {
    const text = [
      "# TYPE a_total gauge",
      "# TYPE b_total counter",
      "# TYPE c gauge",
      "# TYPE d_total_bytes gauge",
    ].join("\n");
    expect(untypeTotalGauges(text).split("\n")).toEqual([
      "# TYPE a_total untyped",
      "# TYPE b_total counter",
      "# TYPE c gauge",
      "# TYPE d_total_bytes gauge",
    ]);
  });
});

describe("metrics", () => {
  test("scheduler passes: duration histogram, failures, lag since the last good pass (0 before)", async () => {
    let now = 1_000_000;
    const metrics = createMetrics({ enabled: true, now: () => now });
    expect(value((await metrics.render()).body, "prexorcloud_scheduler_last_tick_lag_millis")).toBe(0);
    metrics.schedulerTick({ seconds: 0.02, ok: true, groupsEvaluated: 12 });
    now += 4000;
    metrics.schedulerTick({ seconds: 0.5, ok: false });
    const text = (await metrics.render()).body;
    expect(value(text, "prexorcloud_scheduler_last_tick_lag_millis")).toBe(4000);
    expect(value(text, "prexorcloud_scheduler_tick_failures_total")).toBe(1);
    expect(value(text, "prexorcloud_scheduler_tick_duration_seconds_count")).toBe(2);
    expect(value(text, 'prexorcloud_scheduler_tick_duration_seconds_bucket{le="0.025"}')).toBe(1);
    expect(value(text, "prexorcloud_scheduler_groups_evaluated_sum")).toBe(12);
  });

  test("sampled gauges read their source at scrape time and keep the last value when it fails", async () => {
    const metrics = createMetrics({ enabled: true });
    let groups = 3;
    let fail = false;
    metrics.sample("groups", async () => {
      if (fail) throw new Error("store down");
      return groups;
    });
    expect(value((await metrics.render()).body, "prexorcloud_groups_total")).toBe(3);
    groups = 5;
    expect(value((await metrics.render()).body, "prexorcloud_groups_total")).toBe(5);
    fail = true;
    expect(value((await metrics.render()).body, "prexorcloud_groups_total")).toBe(5);
  });

  test("daemon sessions and frames", async () => {
    const metrics = createMetrics({ enabled: true });
    metrics.sample("daemonSessions", () => 1);
    metrics.daemonMessageIn("nodeStatus");
    metrics.daemonMessageOut("StartInstance", "dropped");
    const text = (await metrics.render()).body;
    expect(value(text, "prexorcloud_grpc_daemon_sessions_active")).toBe(1);
    expect(value(text, 'prexorcloud_grpc_daemon_messages_in_total{payload_case="nodestatus"}')).toBe(1);
    expect(
      value(
        text,
        'prexorcloud_grpc_daemon_messages_out_total{payload_case="startinstance",outcome="dropped"}',
      ),
    ).toBe(1);
  });

  test("separate controllers in one process keep separate series", async () => {
    const a = createMetrics({ enabled: true });
    const b = createMetrics({ enabled: true });
    a.leaseAcquired();
    expect(value((await a.render()).body, "prexorcloud_coordination_lease_acquisitions_total")).toBe(1);
    expect(value((await b.render()).body, "prexorcloud_coordination_lease_acquisitions_total")).toBe(0);
  });

  test("disabled metrics accept every call and expose nothing", async () => {
    const metrics = createMetrics({ enabled: false });
    metrics.httpRequest("GET", 200, 0.1);
    metrics.schedulerTick({ seconds: 1, ok: true });
    expect(metrics.enabled).toBe(false);
    await expect(metrics.render()).rejects.toThrow("disabled");
  });
});

describe("coordination instrumentation", () => {
  test("tells new leases from renewals (by fencing token) and counts contention and JWT revocations", async () => {
    const metrics = createMetrics({ enabled: true });
    const coord = instrumentCoordination(new MemoryCoordination(), metrics);
    const lease = await coord.acquireLease("group:lobby", "ctl-a", 10_000); // new
    await coord.acquireLease("group:lobby", "ctl-a", 10_000); // renewal through acquire
    await coord.renewLease(lease!, 10_000); // renewal
    expect(await coord.acquireLease("group:lobby", "ctl-b", 10_000)).toBeNull(); // contention
    await coord.releaseLease(lease!);
    await coord.acquireLease("group:lobby", "ctl-a", 10_000); // new again (fresh token)
    await coord.revoke("jwt", "jti-1", 1000);
    await coord.revoke("nodecert-cn", "node-1", 1000);
    const text = (await metrics.render()).body;
    expect(value(text, "prexorcloud_coordination_lease_acquisitions_total")).toBe(2);
    expect(value(text, "prexorcloud_coordination_lease_renewals_total")).toBe(2);
    expect(value(text, "prexorcloud_coordination_lease_contentions_total")).toBe(1);
    expect(value(text, "prexorcloud_coordination_jwt_revocations_total")).toBe(1);
    // Everything else passes straight through.
    expect(coord.kind).toBe("memory");
    expect(await coord.isRevoked("jwt", "jti-1")).toBe(true);
  });

  test("is the bare port when metrics are off", () => {
    const raw = new MemoryCoordination();
    expect(instrumentCoordination(raw, createMetrics({ enabled: false }))).toBe(raw);
  });
});

describe("request metrics", () => {
  test("count early guard answers, handler failures and not-found alike", async () => {
    const metrics = createMetrics({ enabled: true });
    const app = new Elysia()
      .use(requestMetrics(metrics))
      .onRequest(({ request }) => {
        if (request.url.endsWith("/limited")) return new Response("busy", { status: 503 });
      })
      .get("/ok", () => "ok")
      .get("/boom", () => {
        throw new Error("boom");
      })
      .get("/limited", () => "never")
      .listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${app.server!.port}`;
      for (const path of ["/ok", "/boom", "/limited", "/missing"])
        await (await fetch(base + path)).arrayBuffer();
      const text = (await metrics.render()).body;
      expect(value(text, 'prexorcloud_http_requests_total{method="get",status_class="2xx"}')).toBe(1);
      expect(value(text, 'prexorcloud_http_requests_total{method="get",status_class="5xx"}')).toBe(2);
      expect(value(text, 'prexorcloud_http_requests_total{method="get",status_class="4xx"}')).toBe(1);
    } finally {
      await app.stop(true);
    }
  });
});
