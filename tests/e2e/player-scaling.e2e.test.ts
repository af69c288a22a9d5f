/**
 * Player counts without a plugin drive scaling and drains, end to end with the compiled binary and
 * real peers: flying-squid servers (no cloud plugin) in a DYNAMIC group (min 1, max 2, maxPlayers 2,
 * scale-up threshold 0.5, short cooldowns) and mineflayer bots. Two bots join the first instance →
 * the daemon's Server List Ping sees 2 → the controller's count reaches 2 → a second instance is
 * placed. The bots leave → the count falls to 0 → after the cooldown the group scales back to one.
 * Then a node drain with a bot on the instance keeps it DRAINING until the ping counts 0, and only
 * then stops it.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mineflayer, { type Bot } from "mineflayer";
import { tempDir } from "../support/adapters.ts";
import { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { workloadPortRange } from "../support/ports.ts";
import { startUpCloud, stopAllInstances } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

// flying-squid servers, bots and a controller on a shared 2-core machine.
setDefaultTimeout(300_000);
ensureBinary();
const running: Running[] = [];
const clouds: AdminApi[] = [];
const bots: Bot[] = [];
afterAll(async () => {
  for (const api of clouds.splice(0)) await stopAllInstances(api).catch(() => undefined);
  for (const bot of bots.splice(0)) bot.quit();
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

interface InstanceView {
  id: string;
  state: string;
  port: number;
  playerCount: number;
  maxPlayers: number | null;
  reason: string | null;
}

class Api extends AdminApi {
  async services(group: string): Promise<InstanceView[]> {
    const res = await this.call<{ data: InstanceView[] }>(
      "GET",
      `/api/v1/services?group=${group}&pageSize=100`,
    );
    return res.body.data;
  }
}

const live = (list: InstanceView[]) =>
  list.filter((i) => ["SCHEDULED", "PREPARING", "STARTING", "RUNNING", "DRAINING"].includes(i.state));

async function joinBot(port: number, username: string): Promise<Bot> {
  const bot = mineflayer.createBot({ host: "127.0.0.1", port, username, auth: "offline", version: "1.21.4" });
  bots.push(bot);
  await new Promise<void>((resolve, reject) => {
    bot.once("login", () => resolve());
    bot.once("error", reject);
    bot.once("kicked", (reason) => reject(new Error(`kicked: ${reason}`)));
  });
  return bot;
}

function leave(bot: Bot): void {
  bot.quit();
  bots.splice(bots.indexOf(bot), 1);
}

describe("player counts from the list ping drive scaling and drains", () => {
  test("two bots scale a DYNAMIC group up, leaving scales it down; a drain waits for the ping to count 0", async () => {
    const dir = tempDir("prexor-e2e-players-");
    // The daemon pings every 300 ms; the scheduler evaluates every second.
    mkdirSync(join(dir, "daemon", "config"), { recursive: true });
    writeFileSync(
      join(dir, "daemon", "config", "daemon.yml"),
      "nodeId: local\ninstances:\n  playerCountPoll:\n    intervalMs: 300\n",
    );
    const { api, up } = await startUpCloud(dir, (base) => new Api(base), {
      yaml: "catalog:\n  downloads:\n    enabled: false\nscheduler:\n  evaluationIntervalSeconds: 1\n",
    });
    running.push(up);
    clouds.push(api);
    const rangeStart = await workloadPortRange();
    const created = await api.call("POST", "/api/v1/groups", {
      name: "squids",
      platform: "CUSTOM",
      scalingMode: "DYNAMIC",
      minInstances: 1,
      maxInstances: 2,
      maxPlayers: 2,
      scaleUpThreshold: 0.5,
      scaleCooldownSeconds: 3,
      scaleDownAfterSeconds: 1,
      memoryMb: 128,
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 20),
      argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
    });
    expect(created.status).toBe(201);
    const first = await waitFor(
      async () => {
        const list = live(await api.services("squids"));
        return list.length === 1 && list[0]!.state === "RUNNING" ? list[0] : null;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "the group's first instance RUNNING" },
    );
    // The ping answers before any bot: 0 players, and the server's slot limit.
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === first.id)?.maxPlayers === 10,
      {
        timeoutMs: 30_000,
        what: "maxPlayers from the list ping",
      },
    );

    // 1. Two bots on the first instance: utilisation 2 / (1 × 2) ≥ 0.5 → a second instance.
    const one = await joinBot(first.port, "Bot_one");
    const two = await joinBot(first.port, "Bot_two");
    const counted = performance.now();
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === first.id)?.playerCount === 2,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the controller's count of 2 on the first instance",
      },
    );
    const countMs = Math.round(performance.now() - counted);
    const second = await waitFor(
      async () => {
        const list = live(await api.services("squids"));
        return list.length === 2 ? list.find((i) => i.id !== first.id) : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "a second instance placed for the load" },
    );
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === second.id)?.state === "RUNNING",
      { timeoutMs: 90_000, intervalMs: 200, what: `${second.id} RUNNING` },
    );
    console.log(
      `E2E: the list-ping count reached the controller ${countMs} ms after two bots logged in; ${second.id} placed`,
    );

    // 2. The bots leave: the count falls to 0 and, after the cooldown, the group is back to one.
    leave(one);
    leave(two);
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === first.id)?.playerCount === 0,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the count back to 0",
      },
    );
    const remaining = await waitFor(
      async () => {
        const list = live(await api.services("squids"));
        return list.length === 1 && list[0]!.state === "RUNNING" ? list[0] : null;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "the group scaled back down to one instance" },
    );
    console.log(`E2E: empty again, scaled down to ${remaining.id}`);

    // 3. A drain with a bot on the instance: DRAINING while the ping counts it, stopped once it is 0.
    // Maintenance holds the group, so the drain does not wait for a replacement (one node only).
    expect((await api.call("PATCH", "/api/v1/groups/squids", { maintenance: true })).status).toBe(200);
    const stay = await joinBot(remaining.port, "Bot_stays");
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === remaining.id)?.playerCount === 1,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the bot counted",
      },
    );
    // shutdown=false: the node stays cordoned (a shut-down daemon would take the test's servers along).
    const drain = await api.call("POST", "/api/v1/nodes/local/drain?timeout=600&shutdown=false");
    expect(drain.status).toBe(200);
    await waitFor(
      async () => (await api.services("squids")).find((i) => i.id === remaining.id)?.state === "DRAINING",
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `${remaining.id} DRAINING with its player`,
      },
    );
    // Several scheduler ticks later it is still there, serving its player.
    let ticks = 0;
    await waitFor(
      async () => {
        const view = (await api.services("squids")).find((i) => i.id === remaining.id)!;
        expect(view.state).toBe("DRAINING");
        return ++ticks >= 4;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: "four ticks of DRAINING" },
    );
    leave(stay);
    await waitFor(
      async () => {
        const state = (await api.services("squids")).find((i) => i.id === remaining.id)?.state;
        return state === "STOPPED" || state === "STOPPING";
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${remaining.id} stopped once the ping counted 0` },
    );
  });
});
