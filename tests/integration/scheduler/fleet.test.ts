import { afterAll, expect, test } from "bun:test";
import type { SchedulerInstanceDoc } from "../../../src/controller/scheduler/loop/world-mapping.ts";
import { waitFor } from "../../support/wait.ts";
import { customGroup, type Fleet, startFleet } from "./fleet-harness.ts";

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
    const { controller, api } = fleet;

    const started = performance.now();
    for (let g = 0; g < GROUPS; g++) {
      const name = `g${String(g).padStart(2, "0")}`;
      const res = await api(
        "POST",
        "/api/v1/groups",
        customGroup(name, {
          minInstances: PER_GROUP,
          maxInstances: PER_GROUP + 50,
          memoryMb: MEMORY_MB,
          portRangeStart: 20_000,
          portRangeEnd: 40_000,
        }),
      );
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
    const perGroup = new Map<string, number>();
    for (const inst of all) perGroup.set(inst.group, (perGroup.get(inst.group) ?? 0) + 1);
    for (const count of perGroup.values()) expect(count).toBe(PER_GROUP);

    // What each daemon was told to run: one sealed plan per start, on the port the scheduler chose,
    // no port twice on a node, the memory asked for within the node's capacity.
    const recorded = new Map(all.map((i) => [i._id, i]));
    const memory = new Map<string, number>();
    for (const daemon of fleet.daemons) {
      expect(daemon.malformedStarts).toBe(0);
      const ports = new Set<number>();
      let used = 0;
      for (const inst of daemon.running.values()) {
        expect(ports.has(inst.port)).toBe(false);
        ports.add(inst.port);
        used += inst.memoryMb;
        const record = recorded.get(inst.instanceId);
        expect(record?.node).toBe(daemon.nodeId);
        expect(record?.port).toBe(inst.port);
        expect(record?.planHash).toBe(inst.planHash);
      }
      expect(used).toBeLessThanOrEqual(NODE_MEMORY_MB);
      memory.set(daemon.nodeId, used);
    }
    expect(fleet.daemons.reduce((n, d) => n + d.running.size, 0)).toBe(GROUPS * PER_GROUP);
    expect(fleet.daemons.reduce((n, d) => n + d.starts, 0)).toBe(GROUPS * PER_GROUP);
    expect([...memory.values()].every((m) => m > 0)).toBe(true);
    const plans = controller.store.collection("instance_composition_plans");
    expect(await plans.count()).toBe(GROUPS * PER_GROUP);

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
