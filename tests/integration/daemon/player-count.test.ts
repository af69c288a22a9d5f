/**
 * Player counts without a plugin: the supervisor pings its RUNNING flying-squid with a Server List
 * Ping, and a minecraft-protocol client logging in offline moves the count the link reports
 * (instance_update through the SupervisorAdapter) to 1 and back to 0 when it leaves. A restarted
 * daemon that re-adopts the workload keeps counting it.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { type Client, createClient } from "minecraft-protocol";
import type { ArtifactFetcher } from "../../../src/daemon/link/artifact-fetcher.ts";
import { SupervisorAdapter } from "../../../src/daemon/link/supervisor-adapter.ts";
import type { LinkInstance } from "../../../src/daemon/link/supervisor-port.ts";
import type { Supervisor } from "../../../src/daemon/supervisor/index.ts";
import { freePort } from "../../support/ports.ts";
import { waitFor } from "../../support/wait.ts";
import {
  createTestSupervisor,
  flyingSquidLaunch,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";

setDefaultTimeout(30_000);

const POLL = { intervalMs: 100, concurrency: 8, timeoutMs: 1000 };
const clients: Client[] = [];
const harnesses: TestSupervisor[] = [];

afterAll(async () => {
  for (const client of clients) client.end("bye");
  const last = harnesses.at(-1);
  await last?.cleanup();
  if (last) rmSync(last.dir, { recursive: true, force: true });
});

/** A supervisor whose events go through the real adapter to a recording link. */
async function daemon(dir?: string): Promise<{ harness: TestSupervisor; reports: LinkInstance[] }> {
  const reports: LinkInstance[] = [];
  let supervisor: Supervisor | undefined;
  // Starts here use an inline launch and no artifacts, so the fetcher is never asked.
  const adapter = new SupervisorAdapter(() => supervisor!, {} as ArtifactFetcher);
  adapter.attach({
    reportInstance: (instance) => reports.push(instance),
    reportCrash: () => undefined,
    reportConsoleLine: () => undefined,
  });
  const harness = await createTestSupervisor({
    ...(dir ? { dir } : {}),
    config: { playerCountPoll: POLL },
    deps: { onEvent: adapter.onEvent },
  });
  supervisor = harness.supervisor;
  harnesses.push(harness);
  return { harness, reports };
}

async function join(port: number, username: string): Promise<Client> {
  const client = createClient({ host: "127.0.0.1", port, username, auth: "offline" });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("login", () => resolve());
    client.once("error", reject);
    client.once("end", (reason: string) => reject(new Error(`disconnected: ${reason}`)));
  });
  return client;
}

function lastCount(reports: readonly LinkInstance[], instanceId: string): number | undefined {
  return reports.filter((r) => r.instanceId === instanceId && r.playerCount !== undefined).at(-1)
    ?.playerCount;
}

test("the count the link reports follows a real client joining and leaving, also after re-adoption", async () => {
  const first = await daemon();
  const plan = testPlan({ port: await freePort() });
  const id = plan.instanceId;
  const outcome = await first.harness.supervisor.start({ plan, launch: flyingSquidLaunch() });
  expect(outcome.accepted).toBe(true);
  await waitFor(() => first.harness.supervisor.get(id)?.state === "RUNNING", {
    timeoutMs: 20_000,
    what: "RUNNING",
  });

  // An empty server is reported as 0 once it answered its first ping.
  await waitFor(() => lastCount(first.reports, id) === 0, { what: "a report of 0 players" });

  const client = await join(plan.port, "Prexor_one");
  await waitFor(() => lastCount(first.reports, id) === 1, { what: "a report of 1 player" });
  const report = first.reports.filter((r) => r.playerCount === 1).at(-1)!;
  expect(report).toMatchObject({
    instanceId: id,
    state: "RUNNING",
    port: plan.port,
    planHash: plan.planHash,
    // The slot limit comes from the same ping (the launcher sets max-players 10).
    maxPlayers: 10,
  });
  // Heartbeats read the snapshot: it carries the same count.
  expect(first.harness.supervisor.snapshot().find((s) => s.instanceId === id)?.playerCount).toBe(1);

  client.end("bye");
  await waitFor(() => lastCount(first.reports, id) === 0, { what: "a report of 0 after the client left" });

  // The daemon restarts and leaves the workload running; the next one re-adopts and polls it.
  await join(plan.port, "Prexor_two");
  await waitFor(() => lastCount(first.reports, id) === 1, { what: "the second client counted" });
  first.harness.supervisor.detachAll();
  const second = await daemon(first.harness.dir);
  expect(second.harness.supervisor.get(id)?.state).toBe("RUNNING");
  await waitFor(() => lastCount(second.reports, id) === 1, {
    what: "the re-adopted instance reported with 1",
  });
  expect(second.harness.supervisor.get(id)?.playerCount).toBe(1);

  // Once it stops it is no longer pinged and carries no count.
  await second.harness.supervisor.stop(id);
  expect(second.harness.supervisor.get(id)?.playerCount).toBeUndefined();
});
