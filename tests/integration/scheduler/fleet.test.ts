import { afterAll, expect, test } from "bun:test";
import type { SchedulerInstanceDoc } from "../../../src/controller/scheduler/loop/world-mapping.ts";
import { waitFor } from "../../support/wait.ts";
import { type Fleet, setGroupMemory, startFleet } from "./fleet-harness.ts";

const DAEMONS = 50;
const GROUPS = 25;
const PER_GROUP = 200; // 25 × 200 = 5,000 instances
const NODE_MEMORY_MB = 60_000; // room for 117 instances of 512 MB: the fleet ends ~85 % committed
const MEMORY_MB = 512;

let fleet: Fleet | undefined;
afterAll(async () => {
  await fleet?.stop();
});

test(
  "50 mTLS daemons and 5,000 instances converge with no port collision and no memory over-commit",
  async () => {
    fleet = await startFleet({ daemons: DAEMONS, nodeMemoryMb: NODE_MEMORY_MB, intervalSeconds: 1 });
    const { controller } = fleet;
    const login = await fetch(`http://127.0.0.1:${controller.httpPort}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "fleet-suite-password" }),
    });
    const { token } = (await login.json()) as { token: string };
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${controller.httpPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const started = performance.now();
    for (let g = 0; g < GROUPS; g++) {
      const name = `g${String(g).padStart(2, "0")}`;
      setGroupMemory(name, MEMORY_MB);
      const res = await api("POST", "/api/v1/groups", {
        name,
        minInstances: PER_GROUP,
        maxInstances: PER_GROUP + 50,
        memoryMb: MEMORY_MB,
        portRangeStart: 20_000,
        portRangeEnd: 40_000,
      });
      expect(res.status).toBe(201);
    }

    const instances = controller.store.collection<SchedulerInstanceDoc>("instances");
    await waitFor(async () => (await instances.count({ state: "RUNNING" })) >= GROUPS * PER_GROUP, {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: "5,000 RUNNING instances",
    });
    const convergedMs = performance.now() - started;
    // One more tick over the converged fleet must change nothing.
    const quiet = await controller.scheduler.tickOnce();
    expect(quiet.ok).toBe(true);
    expect(quiet.actionCount).toBe(0);

    const all = await instances.find({}, { limit: 100_000 });
    expect(all).toHaveLength(GROUPS * PER_GROUP);
    const seen = new Set<string>();
    const memory = new Map<string, number>();
    const perGroup = new Map<string, number>();
    for (const inst of all) {
      const key = `${inst.node}:${inst.port}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      memory.set(inst.node, (memory.get(inst.node) ?? 0) + (inst.memoryMb ?? 0));
      perGroup.set(inst.group, (perGroup.get(inst.group) ?? 0) + 1);
    }
    expect(seen.size).toBe(GROUPS * PER_GROUP);
    for (const used of memory.values()) expect(used).toBeLessThanOrEqual(NODE_MEMORY_MB);
    expect(memory.size).toBe(DAEMONS);
    for (const count of perGroup.values()) expect(count).toBe(PER_GROUP);
    expect(fleet.daemons.reduce((n, d) => n + d.starts, 0)).toBe(GROUPS * PER_GROUP);
    expect(fleet.lifecycle.undelivered).toBe(0);

    // Diagnostics over REST.
    const scheduler = (await (await api("GET", "/api/v1/scheduler")).json()) as {
      lastTick: { ok: boolean; actionCount: number; convergence: { open: boolean } };
      leases: string[];
    };
    expect(scheduler.lastTick.ok).toBe(true);
    expect(scheduler.lastTick.convergence.open).toBe(true);
    expect(scheduler.leases).toContain("group:g00");
    const placement = (await (await api("GET", "/api/v1/groups/g00/placement")).json()) as {
      chosen: string | null;
      nodes: Array<{ node: string; eligible: boolean; reason: string }>;
    };
    expect(placement.nodes).toHaveLength(DAEMONS);
    expect((await api("GET", "/api/v1/groups/nope/placement")).status).toBe(404);

    const mem = Math.max(...memory.values());
    console.log(
      `fleet: ${all.length} instances on ${DAEMONS} daemons RUNNING in ${(convergedMs / 1000).toFixed(1)} s; ` +
        `busiest node ${mem} of ${NODE_MEMORY_MB} MB; quiet tick ${quiet.durationMs.toFixed(1)} ms`,
    );
  },
  { timeout: 120_000 },
);
