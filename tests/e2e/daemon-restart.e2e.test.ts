/**
 * Workloads outlive their daemon: the compiled controller and daemon as separate processes, a
 * CUSTOM group of two flying-squid servers, a minecraft-protocol player connected to one of them.
 * The daemon is killed with SIGKILL, then (second round) stopped with SIGTERM as an upgrade would,
 * and started again each time. The servers keep their pids, ports and plan hashes, the controller
 * never sees them leave RUNNING, the player stays connected, console history continues across the
 * restart, and a console command reaches the re-adopted server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, createClient } from "minecraft-protocol";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, readInitialPassword, ready } from "../support/admin-api.ts";
import { ensureBinary, type Running, startBinary } from "../support/binary.ts";
import { killNodeProcesses } from "../support/node-processes.ts";
import { freePort, workloadPortRange } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  killNodeProcesses("restart-1");
});

interface InstanceView {
  id: string;
  state: string;
  port: number;
  planHash: string;
}

class Api extends AdminApi {
  async services(group: string): Promise<InstanceView[]> {
    const res = await this.call<{ data: InstanceView[] }>("GET", `/api/v1/services?group=${group}`);
    if (res.status !== 200) throw new Error(`GET /services: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  }
}

/** The workload processes on this host whose environment names the instance. */
function processesOf(instanceId: string, instancesDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      // The workload itself (bun LAUNCHER …), not its monitor shell, whose arguments name it too.
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      if (
        env.includes(`CLOUD_INSTANCE_ID=${instanceId}`) &&
        cwd.startsWith(instancesDir) &&
        cmd[1] === LAUNCHER
      )
        pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not readable
    }
  }
  return pids.sort((a, b) => a - b);
}

describe("daemon restart", () => {
  let api: Api;
  let grpc: string;
  let daemonRoot: string;
  let daemon: Running;

  const startDaemon = (token?: string) => {
    daemon = startBinary([
      "daemon",
      "--root",
      daemonRoot,
      "--controller",
      grpc,
      ...(token ? ["--join-token", token] : []),
    ]);
    running.push(daemon);
  };

  beforeAll(async () => {
    const root = tempDir("prexor-e2e-restart-ctl-");
    const httpPort = await freePort();
    const grpcPort = await freePort();
    mkdirSync(join(root, "config"));
    writeFileSync(
      join(root, "config/controller.yml"),
      [
        "http:",
        "  host: 127.0.0.1",
        `  port: ${httpPort}`,
        "grpc:",
        "  host: 127.0.0.1",
        `  port: ${grpcPort}`,
        "heartbeat:",
        "  intervalMs: 500",
        "  missedThreshold: 3",
        "  sessionLeaseMs: 1500",
        "scheduler:",
        "  evaluationIntervalSeconds: 1",
        "security:",
        "  rateLimiting:",
        "    perIpPerMinute: 100000",
        "    perUserPerMinute: 100000",
        "",
      ].join("\n"),
    );
    running.push(startBinary(["controller", "--root", root]));
    await waitFor(() => ready(httpPort), { timeoutMs: 20_000, what: "controller health" });
    api = new Api(`http://127.0.0.1:${httpPort}`);
    await api.login(await readInitialPassword(root));
    grpc = `127.0.0.1:${grpcPort}`;

    daemonRoot = tempDir("prexor-e2e-restart-node-");
    mkdirSync(join(daemonRoot, "config"));
    writeFileSync(
      join(daemonRoot, "config/daemon.yml"),
      ["nodeId: restart-1", "reconnect:", "  initialDelayMs: 100", "  maxDelayMs: 500", ""].join("\n"),
    );
    const token = await api.call<{ token: string }>("POST", "/api/v1/admin/tokens", { nodeId: "restart-1" });
    expect(token.status).toBe(201);
    startDaemon(token.body.token);
    await waitFor(
      async () =>
        (
          await api.call<{ data: Array<{ id: string; state: string }> }>("GET", "/api/v1/nodes")
        ).body.data.some((n) => n.id === "restart-1" && n.state === "ONLINE"),
      { timeoutMs: 20_000, what: "restart-1 ONLINE" },
    );
  });

  test("servers keep running, keep their player and take commands across kill -9 and SIGTERM of the daemon", async () => {
    const rangeStart = await workloadPortRange();
    const created = await api.call("POST", "/api/v1/groups", {
      name: "squids",
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 2,
      maxInstances: 2,
      memoryMb: 128,
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 20),
      argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
    });
    expect(created.status).toBe(201);
    const before = await waitFor(
      async () => {
        const list = await api.services("squids");
        return list.length === 2 && list.every((i) => i.state === "RUNNING") ? list : null;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "two squids RUNNING" },
    );
    const instancesDir = join(daemonRoot, "instances");
    const pidsBefore = new Map(before.map((i) => [i.id, processesOf(i.id, instancesDir)]));
    for (const pids of pidsBefore.values()) expect(pids.length).toBe(1);

    const target = before[0]!;
    const client: Client = createClient({
      host: "127.0.0.1",
      port: target.port,
      username: "Prexor_stays",
      auth: "offline",
    });
    let ended = "";
    client.on("end", (reason: string) => {
      ended = reason || "ended";
    });
    await new Promise<void>((resolve, reject) => {
      client.once("login", () => resolve());
      client.once("error", reject);
    });

    // The controller must never see the servers leave RUNNING while their daemon is away.
    const seenStates = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const i of await api.services("squids").catch(() => []))
          seenStates.add(`${i.id}:${i.state}:${i.planHash}`);
        await Bun.sleep(100);
      }
    })();

    try {
      for (const [round, signal] of [
        [1, "SIGKILL"],
        [2, "SIGTERM"],
      ] as const) {
        const restartedAt = performance.now();
        await daemon.stop(signal);
        startDaemon();
        // Re-adopted: console history from before the restart is there, then a command round trip.
        const marker = `adopted-round-${round}`;
        let last = "";
        await waitFor(
          async () => {
            const sent = await api.call("POST", `/api/v1/services/${target.id}/command`, {
              command: `say ${marker}`,
            });
            last = `command: ${sent.status} ${JSON.stringify(sent.body)}`;
            if (sent.status !== 200) return null;
            const history = await api.call<{ lines: Array<{ line: string } | string> }>(
              "GET",
              `/api/v1/services/${target.id}/console/history`,
            );
            const text = JSON.stringify(history.body);
            last = `history: ${history.status} ${text.slice(-400)}`;
            return text.includes(marker) && text.includes("Done (") ? true : null;
          },
          {
            timeoutMs: 20_000,
            intervalMs: 300,
            what: `console command on the re-adopted server (round ${round})`,
          },
        ).catch((err: Error) => {
          throw new Error(`${err.message}; last answer ${last}; daemon log: ${daemon.output().slice(-3000)}`);
        });
        console.log(
          `E2E: round ${round} (${signal}): re-adopted and answering console commands after ${Math.round(performance.now() - restartedAt)} ms`,
        );
        const after = await api.services("squids");
        for (const instance of before) {
          const now = after.find((i) => i.id === instance.id);
          expect(now).toMatchObject({ state: "RUNNING", port: instance.port, planHash: instance.planHash });
          // Same processes: nothing was restarted.
          expect(processesOf(instance.id, instancesDir)).toEqual(pidsBefore.get(instance.id)!);
        }
        expect(ended).toBe("");
      }
    } finally {
      sampling = false;
      await sampler;
      client.end("bye");
    }
    for (const instance of before) {
      expect([...seenStates].filter((s) => s.startsWith(`${instance.id}:`))).toEqual([
        `${instance.id}:RUNNING:${instance.planHash}`,
      ]);
    }
  }, 180_000);
});
