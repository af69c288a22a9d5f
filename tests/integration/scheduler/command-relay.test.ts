/**
 * Active-active: the node's stream is on controller 1, yet controller 2 (same MongoDB and Valkey)
 * takes the operator's start, command and stop for an instance on that node. Its frames reach the
 * daemon through the `command` channel and the controller holding the session.
 */
import { afterAll, expect, test } from "bun:test";
import type { RunningController } from "../../../src/controller/boot.ts";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import { mongoServer, redisServer } from "../../support/servers.ts";
import { issueNodeCredentials, SimulatedDaemon } from "../../support/simulated-daemon.ts";
import { randomId, waitFor } from "../../support/wait.ts";
import { adminApi, customGroup, startClusterMember } from "./fleet-harness.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;

const controllers: RunningController[] = [];
const daemons: SimulatedDaemon[] = [];
afterAll(async () => {
  await Promise.allSettled(daemons.map((d) => d.disconnect()));
  for (const c of controllers) await c.stop();
});

test.skipIf(skip !== undefined)(
  "start and stop taken by a controller without the node's session reach the daemon",
  async () => {
    const database = randomId("relay_");
    const boot = async () => {
      const controller = await startClusterMember({
        mongoUri: mongo.server!.uri,
        redisUri: redis.server!.uri,
        database,
        // A long interval: only the operator's calls act in this test, not the scheduler loop.
        intervalSeconds: 3600,
        clusterSecret: "relay-suite-cluster-secret-0123456",
      });
      controllers.push(controller);
      return controller;
    };
    const holder = await boot();
    const other = await boot();
    const daemon = new SimulatedDaemon(await issueNodeCredentials(holder.pki.ca, randomId("relay-node-")), {
      memoryMb: 8_192,
    });
    daemons.push(daemon);
    await daemon.connect(`127.0.0.1:${holder.grpcPort}`);
    expect(other.sessions.get(daemon.nodeId)).toBeUndefined();

    const api = await adminApi(other);
    const group = randomId("relay");
    expect((await api("POST", "/api/v1/groups", customGroup(group, { scalingMode: "MANUAL" }))).status).toBe(
      201,
    );
    const started = await waitFor(
      async () => {
        const res = await api("POST", `/api/v1/groups/${group}/start?count=1`);
        // The node is known to controller 2 only once its record says connected.
        return res.status === 202 ? ((await res.json()) as { instances: Array<{ id: string }> }) : undefined;
      },
      { timeoutMs: 15_000, what: "controller 2 to place on the node" },
    );
    const id = started.instances[0]!.id;
    const instances = other.store.collection<InstanceDoc>("instances");
    await waitFor(async () => (await instances.get(id))?.state === "RUNNING", {
      timeoutMs: 15_000,
      what: "the relayed start to run",
    });
    expect(daemon.running.has(id)).toBe(true);

    expect((await api("POST", `/api/v1/services/${id}/stop`)).status).toBe(200);
    await waitFor(() => daemon.stopReasons.has(id), { timeoutMs: 15_000, what: "the relayed stop" });
    await waitFor(async () => (await instances.get(id))?.state === "STOPPED", {
      timeoutMs: 15_000,
      what: "STOPPED",
    });
  },
  90_000,
);
