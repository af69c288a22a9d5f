/**
 * A daemon cut from a healthy controller (issue 11, failover): the link between them goes silent
 * while that controller keeps its Redis connection and so keeps renewing the node's session lease.
 * Its own missed-heartbeat window is set far beyond the test here (200 s), so the only way the node
 * can move is the handover: the daemon's Hello to the second controller asks the holder to let go,
 * and the holder does because it has not heard from the node. Without the handover the second
 * controller refuses the Hello for as long as the first one lives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { killNodeProcesses } from "../support/node-processes.ts";
import {
  enrolDaemon,
  nodeView,
  type ProductionController,
  startProductionController,
} from "../support/production-controller.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { randomId, waitFor } from "../support/wait.ts";

ensureBinary();
const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
const PASSWORD = "handover-admin-password-0123";
const nodeId = `handover-${randomId("").slice(0, 6)}`;

const running: Running[] = [];
let link: FaultProxy | undefined;
afterAll(async () => {
  link?.heal();
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  await link?.stop();
  killNodeProcesses(nodeId);
});

describe.skipIf(skip !== undefined)("node handover", () => {
  const database = randomId("handover_");
  const controllers: ProductionController[] = [];

  beforeAll(async () => {
    for (let k = 0; k < 2; k++) {
      const controller = await startProductionController(
        {
          mongoUri: mongo.server!.uri,
          database,
          redisUri: redis.server!.uri,
          clusterSecret: "handover-suite-cluster-secret-0123",
          password: PASSWORD,
          heartbeatMs: 500,
          missedThreshold: 400,
          sessionLeaseMs: 2000,
        },
        running,
        "prexor-e2e-handover-ctl-",
      );
      await controller.api.login(PASSWORD);
      controllers.push(controller);
    }
  }, 90_000);

  const node = (api: AdminApi) => nodeView(api, nodeId);

  test("a node silent on a controller that still holds its lease moves to the one it dialled", async () => {
    const [first, second] = controllers as [(typeof controllers)[0], (typeof controllers)[0]];
    link = await FaultProxy.start(first.grpc);
    const daemon = await enrolDaemon({
      api: first.api,
      controller: `127.0.0.1:${link.port}`,
      nodeId,
      running,
      rootPrefix: "prexor-e2e-handover-node-",
      yaml: [
        "controller:",
        "  helloTimeoutMs: 2500",
        "  endpoints:",
        `    - 127.0.0.1:${link.port}`,
        `    - 127.0.0.1:${second.grpc}`,
        "reconnect:",
        "  initialDelayMs: 100",
        "  maxDelayMs: 500",
      ],
    });
    await waitFor(async () => (await node(first.api))?.controllerId === first.id, {
      timeoutMs: 20_000,
      what: "the node on controller 1 (through the link)",
    });

    const pausedAt = performance.now();
    link.pause();
    const moved = await waitFor(
      async () => {
        const view = await node(second.api);
        return view?.connected && view.controllerId === second.id ? view : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "the node to be handed over to controller 2" },
    ).catch((err: Error) => {
      const tail = (out: string) => out.split("\n").slice(-12).join("\n");
      throw new Error(
        `${err.message}\ndaemon:\n${tail(daemon.output())}\ncontroller 1:\n${tail(first.proc.output())}`,
      );
    });
    console.log(
      `handover: node on controller 2 ${Math.round(performance.now() - pausedAt)} ms after its link to controller 1 went silent`,
    );
    expect(moved.connected).toBe(true);
    expect(first.proc.output()).toContain("handed a silent node over");

    // The new holder can act on the node: a fenced start reaches it and runs.
    const group = randomId("ho");
    expect(
      (
        await second.api.call("POST", "/api/v1/groups", {
          name: group,
          platform: "CUSTOM",
          scalingMode: "MANUAL",
          memoryMb: 64,
          cpuReservation: 0.05,
          argvTemplate: ["sh", "-c", "echo 'Done (0.1s)! For help, type \"help\"'; read line; exit 0"],
        })
      ).status,
    ).toBe(201);
    const id = await waitFor(
      async () => {
        const res = await second.api.call<{ instances: Array<{ id: string }> }>(
          "POST",
          `/api/v1/groups/${group}/start?count=1`,
        );
        // The CPU rule can refuse while this shared box is busy: retried to the deadline.
        return res.status === 202 ? res.body.instances[0]!.id : null;
      },
      { timeoutMs: 30_000, what: "a placement on the handed-over node" },
    );
    await waitFor(
      async () =>
        (await second.api.call<{ state: string }>("GET", `/api/v1/services/${id}`)).body.state === "RUNNING",
      { timeoutMs: 30_000, what: `${id} RUNNING on the handed-over node` },
    );
  }, 120_000);
});
