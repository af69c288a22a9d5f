/**
 * A group really runs a Minecraft server, end to end with the compiled binary: `prexor up` (controller
 * plus its local daemon), a CUSTOM group whose argvTemplate runs the flying-squid workload, `POST
 * /groups/{name}/start`, RUNNING over REST, a ping and an offline login on the instance port (counted
 * in `playerCount` by the daemon's Server List Ping, no plugin), a
 * console command round trip, a re-dispatch that starts nothing new, and a workload that exits 1
 * three times tripping the crash loop, classified in /crashes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createClient, ping } from "minecraft-protocol";
import { tempDir } from "../support/adapters.ts";
import { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { workloadPortRange } from "../support/ports.ts";
import { startUpCloud } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

interface InstanceView {
  id: string;
  group: string;
  nodeId: string;
  state: string;
  port: number;
  planHash: string;
  playerCount: number;
  lastCrashId: string | null;
}

class Api extends AdminApi {
  async services(group: string): Promise<InstanceView[]> {
    const res = await this.call<{ data: InstanceView[] }>("GET", `/api/v1/services?group=${group}`);
    if (res.status !== 200) throw new Error(`GET /services: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  }
}

describe("instances end to end", () => {
  test("a CUSTOM group runs flying-squid: RUNNING, ping, login, console, stop, crash loop", async () => {
    const dir = tempDir("prexor-e2e-instances-");
    const { api, up } = await startUpCloud(dir, (base) => new Api(base));
    running.push(up);

    const rangeStart = await workloadPortRange(96);
    const created = await api.call("POST", "/api/v1/groups", {
      name: "squid",
      platform: "CUSTOM",
      scalingMode: "MANUAL",
      memoryMb: 256,
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 20),
      argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
    });
    expect(created.status).toBe(201);
    const started = await api.startGroup("squid");
    expect(started.status).toBe(202);
    const instanceId = started.body.instances[0]!.id;

    const runningInstance = await waitFor(
      async () => (await api.services("squid")).find((i) => i.id === instanceId && i.state === "RUNNING"),
      { timeoutMs: 60_000, intervalMs: 200, what: `${instanceId} RUNNING over REST` },
    );
    console.log(`E2E: ${instanceId} RUNNING on node ${runningInstance.nodeId} port ${runningInstance.port}`);

    const status = (await ping({ host: "127.0.0.1", port: runningInstance.port })) as {
      version: { name: string };
    };
    expect(status.version.name).toBe("1.21.4");
    const client = createClient({
      host: "127.0.0.1",
      port: runningInstance.port,
      username: "Prexor_e2e",
      auth: "offline",
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("login", () => resolve());
        client.once("error", reject);
        client.once("end", (reason: string) => reject(new Error(`disconnected: ${reason}`)));
      });
      // No plugin runs here: the count comes from the daemon's Server List Ping poller (default 5 s).
      await waitFor(
        async () => (await api.services("squid")).find((i) => i.id === instanceId)?.playerCount === 1,
        { timeoutMs: 20_000, intervalMs: 200, what: "playerCount 1 over REST while the client is in" },
      );
    } finally {
      client.end("bye");
    }
    await waitFor(
      async () => (await api.services("squid")).find((i) => i.id === instanceId)?.playerCount === 0,
      { timeoutMs: 20_000, intervalMs: 200, what: "playerCount 0 over REST after the client left" },
    );
    console.log("E2E: server list ping answered 1.21.4; offline login counted 1 by the daemon, then 0");

    const composition = await api.call<{ planHash: string; templates: unknown[] }>(
      "GET",
      `/api/v1/services/${instanceId}/composition`,
    );
    expect(composition.status).toBe(200);
    expect(composition.body.planHash).toBe(runningInstance.planHash);

    const sent = await api.call("POST", `/api/v1/services/${instanceId}/command`, {
      command: "say hello-from-e2e",
    });
    expect(sent.status).toBe(200);
    await waitFor(
      async () =>
        (
          await api.call<{ data: Array<{ line: string }> }>(
            "GET",
            `/api/v1/services/${instanceId}/console/history`,
          )
        ).body.data.some((l) => l.line.includes("hello-from-e2e")),
      { timeoutMs: 15_000, intervalMs: 200, what: "the command's output in console history" },
    );
    console.log("E2E: console command round trip seen in /console/history");

    const stopped = await api.call("POST", `/api/v1/services/${instanceId}/stop`);
    expect(stopped.status).toBe(200);
    await waitFor(
      async () => (await api.services("squid")).find((i) => i.id === instanceId)?.state === "STOPPED",
      { timeoutMs: 30_000, intervalMs: 200, what: `${instanceId} STOPPED` },
    );
    console.log("E2E: graceful stop reached STOPPED");

    // Crash loop: a workload that exits 1 at once, three times.
    const crasher = await api.call("POST", "/api/v1/groups", {
      name: "crasher",
      platform: "CUSTOM",
      scalingMode: "MANUAL",
      memoryMb: 128,
      portRangeStart: rangeStart + 30,
      portRangeEnd: Math.min(65535, rangeStart + 50),
      argvTemplate: [process.execPath, "-e", "console.error('boom'); process.exit(1)"],
    });
    expect(crasher.status).toBe(201);
    for (let i = 1; i <= 3; i++) {
      const res = await api.startGroup("crasher");
      expect(res.status).toBe(202);
      await waitFor(
        async () => (await api.services("crasher")).filter((x) => x.state === "CRASHED").length >= i,
        { timeoutMs: 30_000, intervalMs: 200, what: `crash ${i}` },
      );
    }
    const crashes = await api.call<{
      data: Array<{ classification: string; group: string; exitCode: number }>;
      total: number;
    }>("GET", "/api/v1/crashes?group=crasher");
    expect(crashes.body.total).toBe(3);
    expect(crashes.body.data.every((c) => c.classification === "GENERAL_ERROR" && c.exitCode === 1)).toBe(
      true,
    );
    const paused = await api.call("POST", "/api/v1/groups/crasher/start?count=1");
    expect(paused.status).toBe(409);
    console.log(
      `E2E: 3 crashes classified ${crashes.body.data[0]?.classification}; start refused with ${paused.status} (crash loop pause)`,
    );

    expect(await up.stop("SIGINT")).toBe(0);
  }, 180_000);
});
