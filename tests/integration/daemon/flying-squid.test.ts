/**
 * The supervisor driving a real Minecraft server (flying-squid through its launcher shim) on the
 * `custom` launch path: readiness by console line and by Server List Ping, a real client pinging and
 * logging in, console commands, RCON, re-dispatch idempotency and a graceful stop.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, ping } from "minecraft-protocol";
import { Rcon } from "rcon-client";
import type { CompositionPlan } from "../../../src/core/plan/index.ts";
import { freePort } from "../../support/ports.ts";
import { waitFor } from "../../support/wait.ts";
import {
  createTestSupervisor,
  flyingSquidLaunch,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";

// Real servers and JVMs on a shared 2-core machine: allow for slow starts.
setDefaultTimeout(30_000);

let harness: TestSupervisor;

beforeAll(async () => {
  harness = await createTestSupervisor();
});

afterAll(async () => {
  await harness.cleanup();
});

describe("flying-squid on the custom launch path", () => {
  let plan: CompositionPlan;
  let port: number;

  test("reaches RUNNING through the Paper-style console ready line", async () => {
    port = await freePort();
    plan = testPlan({ port });
    const outcome = await harness.supervisor.start({
      plan,
      launch: flyingSquidLaunch(),
      readiness: { console: /Done \(\d+(?:[.,]\d+)?s\)! For help/, ping: false },
      rcon: {},
    });
    expect(outcome).toMatchObject({ accepted: true, alreadyApplied: false, port });

    await harness.waitForState(plan.instanceId, "RUNNING");
    expect(harness.statesOf(plan.instanceId)).toEqual(["PREPARING", "STARTING", "RUNNING"]);
    const running = harness.events.find(
      (event) => event.type === "state" && event.instanceId === plan.instanceId && event.to === "RUNNING",
    );
    expect(running).toMatchObject({ detail: "ready (console ready line)" });

    // The template was materialized with this instance's values.
    const properties = readFileSync(
      join(harness.config.instancesDirectory, plan.instanceId, "server.properties"),
      "utf8",
    );
    expect(properties).toContain(`server-port=${port}`);
  });

  test("a minecraft-protocol client pings it and logs in offline on the allocated port", async () => {
    const status = (await ping({ host: "127.0.0.1", port })) as { version: { name: string } };
    expect(status.version.name).toBe("1.21.4");

    const client = createClient({ host: "127.0.0.1", port, username: "Prexor_bot", auth: "offline" });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("login", () => resolve());
        client.once("error", reject);
        client.once("end", (reason: string) => reject(new Error(`disconnected: ${reason}`)));
      });
      await waitFor(
        () => harness.supervisor.consoleTail(plan.instanceId).some((line) => line.includes("Prexor_bot")),
        {
          what: "the join to show up in the console",
        },
      );
    } finally {
      client.end("bye");
    }
  });

  test("a console command sent through the supervisor shows up in the console ring buffer", async () => {
    const seen: string[] = [];
    const unsubscribe = harness.supervisor.subscribeConsole(plan.instanceId, (delivery) =>
      seen.push(delivery.line),
    );
    try {
      expect(harness.supervisor.sendCommand(plan.instanceId, "say hello")).toBe(true);
      await waitFor(
        () => harness.supervisor.consoleTail(plan.instanceId).some((line) => line.includes("[Server] hello")),
        {
          what: "[Server] hello in the console",
        },
      );
      expect(seen.some((line) => line.includes("[Server] hello"))).toBe(true);
    } finally {
      unsubscribe();
    }
    // Cleaned: no colour codes, no readline prompt residue.
    for (const line of harness.supervisor.consoleTail(plan.instanceId)) {
      expect(line).not.toContain("\x1b");
      expect(line.startsWith("> ")).toBe(false);
    }
  });

  test("RCON commands run through the supervisor and through a third-party client", async () => {
    const reply = await harness.supervisor.rconCommand(plan.instanceId, "say hello-rcon");
    expect(reply).toContain("[Server] hello-rcon");
    expect(await harness.supervisor.rconCommand(plan.instanceId, "version")).toContain("flying-squid");

    expect(harness.supervisor.get(plan.instanceId)!.rconPort).toBeGreaterThan(0);
  });

  test("re-dispatching the same plan never starts a second process", async () => {
    const before = harness.supervisor.get(plan.instanceId)!;
    const again = await Promise.all([
      harness.supervisor.start({ plan, launch: flyingSquidLaunch() }),
      harness.supervisor.start({ plan, launch: flyingSquidLaunch() }),
    ]);
    for (const outcome of again)
      expect(outcome).toMatchObject({ accepted: true, alreadyApplied: true, pid: before.pid });
    const mine = harness.supervisor.snapshot().filter((s) => s.instanceId === plan.instanceId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.pid).toBe(before.pid);
    expect(harness.statesOf(plan.instanceId).filter((s) => s === "STARTING")).toHaveLength(1);
  });

  test("a graceful stop sends `stop` and the server exits 0", async () => {
    const outcome = await harness.supervisor.stop(plan.instanceId);
    expect(outcome).toMatchObject({ accepted: true, step: "command", exit: { exitCode: 0 } });
    expect(harness.statesOf(plan.instanceId).slice(-2)).toEqual(["STOPPING", "STOPPED"]);
    expect(harness.events.some((e) => e.type === "crash" && e.report.instanceId === plan.instanceId)).toBe(
      false,
    );
    expect(harness.supervisor.usedPorts()).not.toContain(port);
  });

  test("the applied plan survives a daemon restart: a re-dispatch is still refused", async () => {
    const restarted = await createTestSupervisor({ dir: harness.dir });
    const outcome = await restarted.supervisor.start({ plan, launch: flyingSquidLaunch() });
    expect(outcome).toMatchObject({ accepted: true, alreadyApplied: true });
    expect(restarted.supervisor.snapshot()).toHaveLength(0);
  });
});

test("flying-squid reaches RUNNING through a Server List Ping", async () => {
  const plan = testPlan();
  const base = await freePort();
  const outcome = await harness.supervisor.start({
    plan,
    launch: flyingSquidLaunch(),
    readiness: { console: false, ping: true },
    portRange: { start: base, end: base + 20 },
  });
  expect(outcome.accepted).toBe(true);
  await harness.waitForState(plan.instanceId, "RUNNING");
  const running = harness.events.find(
    (event) => event.type === "state" && event.instanceId === plan.instanceId && event.to === "RUNNING",
  );
  expect(running).toMatchObject({ detail: "ready (server list ping)" });
  const stopped = await harness.supervisor.stop(plan.instanceId);
  expect(stopped).toMatchObject({ accepted: true, exit: { exitCode: 0 } });
});

test("RCON interop: rcon-client against the workload's RCON server directly", async () => {
  const plan = testPlan();
  await harness.supervisor.start({
    plan,
    launch: flyingSquidLaunch(),
    portRange: { start: await freePort(), end: 65000 },
    rcon: { password: "s3cret" },
  });
  await harness.waitForState(plan.instanceId, "RUNNING");
  const { rconPort } = harness.supervisor.get(plan.instanceId)!;
  const rcon = await Rcon.connect({ host: "127.0.0.1", port: rconPort!, password: "s3cret" });
  try {
    expect(await rcon.send("nosuch")).toContain("Command not found");
  } finally {
    await rcon.end();
  }
  await expect(Rcon.connect({ host: "127.0.0.1", port: rconPort!, password: "wrong" })).rejects.toThrow(
    /Authentication failed/,
  );
  await harness.supervisor.stop(plan.instanceId);
});
