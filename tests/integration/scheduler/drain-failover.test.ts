/**
 * A drain outlives the controller that started it: controller 1 (MongoDB + Valkey) drains node A until
 * its instance is DRAINING, then stops; controller 2 on the same store and coordination takes the
 * `node-drain:<id>` lease once the daemons reconnect to it, finishes the drain when the players leave
 * and sends the ShutdownNode the intent asked for.
 */
import { afterAll, expect, test } from "bun:test";
import type { RunningController } from "../../../src/controller/boot.ts";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import type { DrainDoc } from "../../../src/controller/scheduler/loop/drain-workflow.ts";
import { mongoServer, redisServer } from "../../support/servers.ts";
import { issueNodeCredentials, SimulatedDaemon } from "../../support/simulated-daemon.ts";
import { randomId, waitFor } from "../../support/wait.ts";
import { adminApi, customGroup, startClusterMember } from "./fleet-harness.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
if (skip !== undefined) console.warn(`drain failover suite skipped: ${skip}`);

const controllers: RunningController[] = [];
const daemons: SimulatedDaemon[] = [];
afterAll(async () => {
  await Promise.allSettled(daemons.map((d) => d.disconnect()));
  for (const c of controllers) await c.stop();
});

test.skipIf(skip !== undefined)(
  "a drain started by one controller is finished by the next one on the same store",
  async () => {
    const database = randomId("drain_");
    // Unique names: the Valkey instance is shared with the other suites of the run.
    const [nodeA, nodeB, group] = [randomId("fa-"), randomId("fb-"), randomId("gfo")];
    const boot = async () => {
      const controller = await startClusterMember({
        mongoUri: mongo.server!.uri,
        redisUri: redis.server!.uri,
        database,
        intervalSeconds: 1,
        clusterSecret: "drain-failover-cluster-secret-0123",
      });
      controllers.push(controller);
      return controller;
    };

    const first = await boot();
    const api1 = await adminApi(first);
    const [a, b] = await Promise.all(
      [nodeA, nodeB].map(
        async (id) => new SimulatedDaemon(await issueNodeCredentials(first.pki.ca, id), { memoryMb: 16_384 }),
      ),
    );
    daemons.push(a!, b!);
    await a!.connect(`127.0.0.1:${first.grpcPort}`);
    const res = await api1(
      "POST",
      "/api/v1/groups",
      customGroup(group, { scalingMode: "STATIC", minInstances: 1, maxInstances: 1, memoryMb: 512 }),
    );
    expect(res.status).toBe(201);
    const instances = first.store.collection<InstanceDoc>("instances");
    const id = `${group}-1`;
    const stateOf = async (store: RunningController["store"]) =>
      (await store.collection<InstanceDoc>("instances").get(id))?.state;
    // Generous: the MongoDB-wire test server is a JVM that may still be warming up.
    await waitFor(async () => (await stateOf(first.store)) === "RUNNING", {
      timeoutMs: 30_000,
      what: "the instance RUNNING",
    });
    expect((await instances.get(id))?.node).toBe(nodeA);
    await b!.connect(`127.0.0.1:${first.grpcPort}`);
    a!.setPlayers(id, 2);
    await waitFor(async () => (await instances.get(id))?.players === 2, { what: "2 players" });

    expect((await api1("POST", `/api/v1/nodes/${nodeA}/drain?timeout=600`)).status).toBe(200);
    await waitFor(async () => (await stateOf(first.store)) === "DRAINING", {
      timeoutMs: 30_000,
      what: "the instance DRAINING on controller 1",
    });
    const drains = first.store.collection<DrainDoc>("workflow_drains");
    await waitFor(async () => (await drains.get(nodeA))?.drainingInstanceIds.includes(id), {
      what: "the intent to record the draining instance",
    });
    await first.stop();
    controllers.splice(controllers.indexOf(first), 1);

    // Controller 2: same store and coordination, fresh process state. The daemons redial it.
    const second = await boot();
    const address = `127.0.0.1:${second.grpcPort}`;
    for (const daemon of [a!, b!]) {
      await waitFor(
        async () => {
          await daemon.connect(address);
          return true;
        },
        { timeoutMs: 15_000, what: `${daemon.nodeId} to reconnect` },
      );
    }
    // Resumed, not restarted: still DRAINING, replacement untouched, no second intent.
    await waitFor(() => second.scheduler.heldScopes().includes(`node-drain:${nodeA}`), {
      timeoutMs: 15_000,
      what: "controller 2 to take the drain lease",
    });
    expect(await stateOf(second.store)).toBe("DRAINING");
    const intent = await second.store.collection<DrainDoc>("workflow_drains").get(nodeA);
    expect(intent).toMatchObject({
      state: "IN_PROGRESS",
      shutdownAfterDrain: true,
      drainingInstanceIds: [id],
    });

    a!.setPlayers(id, 0);
    await waitFor(async () => (await stateOf(second.store)) === "STOPPED", {
      timeoutMs: 15_000,
      what: "the instance STOPPED by controller 2",
    });
    await waitFor(() => a!.shutdowns.length === 1, { timeoutMs: 15_000, what: "ShutdownNode to node A" });
    const done = await second.store.collection<DrainDoc>("workflow_drains").get(nodeA);
    expect(done?.state).toBe("COMPLETED");
    expect(await second.nodes.get(nodeA)).toMatchObject({ cordoned: true, drain: null });
    const running = await second.store.collection<InstanceDoc>("instances").find({ group, state: "RUNNING" });
    expect(running.map((i) => i.node)).toEqual([nodeB]);
    expect(b!.shutdowns).toEqual([]);
  },
  120_000,
);
