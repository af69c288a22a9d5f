/**
 * Nodes over REST (list, info, cordon, drain, delete, permissions, audit) and controller commands
 * over the stream (epoch stamping, lease fences refused by the daemon, a start without a plan).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LinkCommands } from "../../../src/daemon/link/supervisor-port.ts";
import {
  type DaemonMessage,
  FailureDisposition,
  FrameErrorCode,
  type StartInstance,
  StartInstanceAck,
  StopInstanceAck,
} from "../../../src/wire/index.ts";
import { waitFor } from "../../support/wait.ts";
import { nodeState, startCluster, startTestDaemon, type TestCluster, waitForState } from "./harness.ts";

let cluster: TestCluster;
const stops: Array<() => Promise<void>> = [];
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await cluster.stop();
});

type Frame = NonNullable<DaemonMessage["frame"]>;

describe("nodes over REST", () => {
  test("list and info show state, capacity and certificate; filters by state", async () => {
    const daemon = await startTestDaemon(cluster, "rest-a", { token: await cluster.mintToken("rest-a") });
    stops.push(() => daemon.stop());
    await waitForState(cluster, "rest-a", "ONLINE");
    const list = await cluster.json<{ data: Array<Record<string, unknown>>; total: number; page: number }>(
      "GET",
      "/api/v1/nodes",
    );
    expect(list.page).toBe(1);
    const node = list.data.find((n) => n.id === "rest-a")!;
    expect(node).toMatchObject({ state: "ONLINE", connected: true, cordoned: false, instanceCount: 0 });
    expect((node.capacity as { totalMemoryMb: number }).totalMemoryMb).toBeGreaterThan(0);
    const filtered = await cluster.json<{ data: Array<{ id: string }> }>(
      "GET",
      "/api/v1/nodes?state=OFFLINE",
    );
    expect(filtered.data.map((n) => n.id)).not.toContain("rest-a");
    expect((await cluster.call("GET", "/api/v1/nodes/nope")).status).toBe(404);
    expect((await cluster.call("GET", "/api/v1/nodes?state=BROKEN")).status).toBe(422);
  });

  test("cordon, drain, undrain, uncordon: state, flags and audit with before/after", async () => {
    const cordoned = await cluster.json<{ cordoned: boolean; state: string }>(
      "POST",
      "/api/v1/nodes/rest-a/cordon",
    );
    expect(cordoned).toMatchObject({ cordoned: true, state: "ONLINE" });
    // Without shutdown, so the daemon stays up for the rest of the suite.
    const draining = await cluster.json<{
      state: string;
      cordoned: boolean;
      drain: { shutdown: boolean; deadlineAt: string; kickMessage: string };
    }>("POST", "/api/v1/nodes/rest-a/drain?timeout=120&shutdown=false");
    expect(draining.state).toBe("DRAINING");
    expect(draining.cordoned).toBe(true);
    expect(draining.drain.shutdown).toBe(false);
    expect(draining.drain.kickMessage).toBe("This server is shutting down for maintenance.");
    expect(Date.parse(draining.drain.deadlineAt) - Date.now()).toBeGreaterThan(110_000);
    // The node holds no instance: the drain completes at once and leaves the node cordoned; a
    // heartbeat landing meanwhile undoes neither.
    await waitFor(async () => (await nodeState(cluster, "rest-a"))!.drain === null, {
      what: "the drain of an empty node to complete",
    });
    const beat = (await nodeState(cluster, "rest-a"))!.lastSeen;
    await waitFor(async () => (await nodeState(cluster, "rest-a"))!.lastSeen !== beat, {
      what: "a heartbeat",
    });
    expect(await nodeState(cluster, "rest-a")).toMatchObject({
      state: "ONLINE",
      cordoned: true,
      drain: null,
    });
    const undrain = await cluster.call("POST", "/api/v1/nodes/rest-a/undrain");
    expect(undrain.status).toBe(409);
    expect(((await undrain.json()) as { error: { message: string } }).error.message).toBe(
      "node not draining",
    );
    expect(
      (await cluster.json<{ cordoned: boolean }>("POST", "/api/v1/nodes/rest-a/uncordon")).cordoned,
    ).toBe(false);

    const audit = await cluster.json<{
      data: Array<{ action: string; before?: { cordoned: boolean }; after?: { cordoned: boolean } }>;
    }>("GET", "/api/v1/audit?resourceType=node&resourceId=rest-a");
    const actions = audit.data.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["node.cordon", "node.drain", "node.uncordon"]));
    const cordon = audit.data.find((a) => a.action === "node.cordon")!;
    expect(cordon.before?.cordoned).toBe(false);
    expect(cordon.after?.cordoned).toBe(true);
  });

  test("delete is refused while connected and forgets a disconnected node", async () => {
    const daemon = await startTestDaemon(cluster, "rest-b", { token: await cluster.mintToken("rest-b") });
    await waitForState(cluster, "rest-b", "ONLINE");
    expect((await cluster.call("DELETE", "/api/v1/nodes/rest-b")).status).toBe(409);
    await daemon.stop();
    await waitForState(cluster, "rest-b", "OFFLINE");
    expect((await cluster.call("DELETE", "/api/v1/nodes/rest-b")).status).toBe(200);
    expect(await nodeState(cluster, "rest-b")).toBeNull();
    // Its certificate is still valid: it comes back, and the record with it.
    const back = await startTestDaemon(cluster, "rest-b", { root: daemon.root });
    stops.push(() => back.stop());
    await waitForState(cluster, "rest-b", "ONLINE");
  });

  test("shutdown: the daemon acks ShutdownNode and is told to stop", async () => {
    const daemon = await startTestDaemon(cluster, "rest-c", { token: await cluster.mintToken("rest-c") });
    stops.push(() => daemon.stop());
    await waitForState(cluster, "rest-c", "ONLINE");
    const res = await cluster.call("POST", "/api/v1/nodes/rest-c/shutdown");
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "SHUTDOWN_REQUESTED", delivery: "sent" });
    expect(await daemon.shutdownRequested).toBe("shutdown requested by admin");
    await daemon.stop();
    await waitForState(cluster, "rest-c", "OFFLINE");
    expect((await cluster.call("POST", "/api/v1/nodes/rest-c/shutdown")).status).toBe(409);
  });

  test("permissions: a viewer may list but not cordon or see tokens", async () => {
    expect(
      (
        await cluster.call("POST", "/api/v1/users", {
          username: "viewer1",
          password: "viewer-password",
          role: "VIEWER",
        })
      ).status,
    ).toBe(201);
    const login = await cluster.call(
      "POST",
      "/api/v1/auth/login",
      { username: "viewer1", password: "viewer-password" },
      "",
    );
    const viewer = ((await login.json()) as { token: string }).token;
    expect((await cluster.call("GET", "/api/v1/nodes", undefined, viewer)).status).toBe(200);
    expect((await cluster.call("POST", "/api/v1/nodes/rest-a/cordon", undefined, viewer)).status).toBe(403);
    expect((await cluster.call("POST", "/api/v1/nodes/rest-a/shutdown", undefined, viewer)).status).toBe(403);
    expect((await cluster.call("GET", "/api/v1/nodes/revoked-certs", undefined, viewer)).status).toBe(403);
    expect((await cluster.call("GET", "/api/v1/admin/tokens", undefined, viewer)).status).toBe(403);
    expect((await cluster.call("POST", "/api/v1/admin/tokens", {}, viewer)).status).toBe(403);
  });
});

describe("commands over the stream", () => {
  test("commands reach the daemon in order; stale lease fences are dropped with STALE_FENCE", async () => {
    const started: StartInstance[] = [];
    const commands: LinkCommands = {
      async start(command) {
        started.push(command);
        return StartInstanceAck.create({ instanceId: command.instanceId, accepted: true });
      },
      async stop(command) {
        return StopInstanceAck.create({ instanceId: command.instanceId, accepted: true });
      },
      sendCommand() {},
    };
    const daemon = await startTestDaemon(cluster, "cmd-a", {
      token: await cluster.mintToken("cmd-a"),
      commands,
    });
    stops.push(() => daemon.stop());
    await waitForState(cluster, "cmd-a", "ONLINE");
    const heard: Frame[] = [];
    const unlisten = cluster.running.sessions.onFrame((nodeId, frame) => {
      if (nodeId === "cmd-a") heard.push(frame);
    });
    const start = (instanceId: string, token: number) =>
      cluster.running.sessions.send("cmd-a", {
        case: "startInstance",
        value: {
          instanceId,
          group: "lobby",
          pluginToken: "",
          startupTimeoutSeconds: 0,
          shutdownGraceSeconds: 0,
          maxLifetimeSeconds: 0,
          deploymentRevision: 0,
          maxPlayers: 0,
          resolvedVariables: {},
          launchArgv: [],
          readiness: "",
          forwardingSecret: "",
          fence: { scope: "group:lobby", token },
        },
      });
    expect(start("i-1", 5)).toBe("queued");
    expect(start("i-2", 3)).toBe("queued");
    expect(start("i-3", 6)).toBe("queued");
    await waitFor(
      () => heard.filter((f) => f.case === "startAck").length === 2 && heard.some((f) => f.case === "error"),
      {
        what: "two acks and one refusal",
      },
    );
    expect(started.map((s) => s.instanceId)).toEqual(["i-1", "i-3"]);
    const refusal = heard.find((f) => f.case === "error");
    expect(refusal?.case === "error" && refusal.value.code).toBe(FrameErrorCode.STALE_FENCE);
    expect(refusal?.case === "error" && refusal.value.instanceId).toBe("i-2");
    await cluster.logs.waitFor(/controller command dropped: fence group:lobby#3 is below #5/);
    expect(
      cluster.running.sessions.send("nobody", {
        case: "ping",
        value: { sequence: 1, controllerGrpcAddrs: [] },
      }),
    ).toBe("no-session");
    unlisten();
  });

  // Every daemon now runs a supervisor; a StartInstance without a plan is refused, permanently.
  test("a start without a composition plan is refused as PERMANENT INVALID_PLAN", async () => {
    const heard: Frame[] = [];
    const unlisten = cluster.running.sessions.onFrame((nodeId, frame) => {
      if (nodeId === "rest-a") heard.push(frame);
    });
    cluster.running.sessions.send("rest-a", {
      case: "startInstance",
      value: {
        instanceId: "i-9",
        group: "lobby",
        pluginToken: "",
        startupTimeoutSeconds: 0,
        shutdownGraceSeconds: 0,
        maxLifetimeSeconds: 0,
        deploymentRevision: 0,
        maxPlayers: 0,
        resolvedVariables: {},
        launchArgv: [],
        readiness: "",
        forwardingSecret: "",
      },
    });
    const ack = await waitFor(() => heard.find((f) => f.case === "startAck"), { what: "a start ack" });
    expect(ack.case === "startAck" && ack.value).toMatchObject({
      accepted: false,
      errorCode: "INVALID_PLAN",
      disposition: FailureDisposition.PERMANENT,
    });
    unlisten();
  });
});
