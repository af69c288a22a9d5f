import { afterEach, expect, test } from "bun:test";
import { resolveAll } from "../../../../src/controller/groups/group-inheritance.ts";
import type { GroupDoc } from "../../../../src/controller/groups/group-service.ts";
import type { SchedulerInstanceDoc } from "../../../../src/controller/scheduler/loop/world-mapping.ts";
import { WorldReader } from "../../../../src/controller/scheduler/loop/world-reader.ts";
import type { Collection, Doc, DurableStore } from "../../../../src/store/port.ts";
import { type Rig, readOnlyInstances, rig } from "./fixture.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

/** The rig's store, counting reads of the `groups` collection. */
function countingGroupReads(store: DurableStore): {
  store: DurableStore;
  reads: { get: number; find: number };
} {
  const reads = { get: 0, find: 0 };
  const counted = Object.create(store) as DurableStore;
  counted.collection = <T extends Doc>(name: string): Collection<T> => {
    const col = store.collection<T>(name);
    if (name !== "groups") return col;
    const wrapper = Object.create(col) as Collection<T>;
    wrapper.get = (id) => {
      reads.get++;
      return col.get(id);
    };
    wrapper.find = (filter, options) => {
      reads.find++;
      return col.find(filter, options);
    };
    return wrapper;
  };
  return { store: counted, reads };
}

test("groups are read once per tick and resolved through their parents in memory", async () => {
  r = await rig();
  await r.addGroup({ name: "base", memoryMb: 2048, maxPlayers: 50, jvmArgs: ["-Xss1m"] });
  await r.addGroup({ name: "lobby", parent: "base", minInstances: 2 });
  await r.addGroup({ name: "lobby-eu", parent: "lobby", maxPlayers: 80 });
  for (let k = 0; k < 20; k++) await r.addGroup({ name: `solo-${k}` });

  const { store, reads } = countingGroupReads(r.store);
  const reader = new WorldReader({
    store,
    instanceRecords: readOnlyInstances(store),
    maintenance: { get: async () => ({ enabled: false }) },
  });
  const world = await reader.read(r.clock.t);
  expect(reads).toEqual({ get: 0, find: 1 });
  expect(world.groups).toHaveLength(23);
  const eu = world.groups.find((g) => g.name === "lobby-eu")!;
  expect({ memoryMb: eu.memoryMb, maxPlayers: eu.maxPlayers, minInstances: eu.minInstances }).toEqual({
    memoryMb: 2048,
    maxPlayers: 80,
    minInstances: 2,
  });

  // Same answer as the service's one-group resolution (`GET /groups/{name}/resolved`).
  const docs = await r.store.collection<GroupDoc>("groups").find({});
  const all = new Map(resolveAll(docs).map((g) => [g.name, g]));
  for (const name of ["base", "lobby", "lobby-eu", "solo-3"]) {
    expect(all.get(name)).toEqual(await r.groups.resolved(name));
  }
});

test("the players counter of the instance record wins over a stale heartbeat report", async () => {
  r = await rig();
  await r.addGroup({ name: "lobby" });
  await r.addNode("node-a", {
    instances: [
      {
        instanceId: "lobby-1",
        group: "lobby",
        state: "RUNNING",
        port: 30000,
        playerCount: 0,
        uptimeMs: 60_000,
        planHash: "",
      },
    ],
  });
  await r.store
    .collection<SchedulerInstanceDoc>("instances")
    .put({ _id: "lobby-1", group: "lobby", node: "node-a", state: "RUNNING", port: 30000, players: 7 });
  const reader = new WorldReader({
    store: r.store,
    instanceRecords: readOnlyInstances(r.store),
    maintenance: { get: async () => ({ enabled: false }) },
  });
  const world = await reader.read(r.clock.t);
  expect(world.instances[0]).toMatchObject({ id: "lobby-1", players: 7, startedAt: r.clock.t - 60_000 });
});
