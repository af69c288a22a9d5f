/**
 * Failures that end and show: a PAPER group with no catalog entry is planned once, the plan fails
 * PERMANENT, and the group is paused with the reason (GET /groups, the scheduler's diagnostics,
 * GROUP_PAUSED, the pause counters). Further ticks place nothing; `resume` allows exactly one more
 * attempt. A group naming a template that does not exist is refused at write with 422 naming it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitFor } from "../../support/wait.ts";
import { type Fleet, startFleet } from "./fleet-harness.ts";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ daemons: 1, nodeMemoryMb: 8192, intervalSeconds: 1 });
}, 30_000);
afterAll(async () => {
  await fleet?.stop();
});

interface GroupRow {
  name: string;
  pause: { kind: string; code: string; reason: string; instanceId?: string } | null;
}

async function instancesOf(group: string): Promise<Array<{ id: string; state: string }>> {
  const res = await fleet.api("GET", `/api/v1/services?group=${group}&pageSize=100`);
  return ((await res.json()) as { data: Array<{ id: string; state: string }> }).data;
}

async function tickAt(): Promise<string | undefined> {
  const res = await fleet.api("GET", "/api/v1/scheduler");
  return ((await res.json()) as { lastTick: { at: string } | null }).lastTick?.at;
}

async function scrape(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${fleet.controller.httpPort}/metrics`)).text();
}

/** Resolves after `n` more scheduler ticks have completed. */
async function ticks(n: number): Promise<void> {
  let seen = await tickAt();
  for (let i = 0; i < n; i++) {
    const before = seen;
    seen = await waitFor(
      async () => {
        const at = await tickAt();
        return at !== before ? at : undefined;
      },
      { what: "the next scheduler tick", timeoutMs: 10_000 },
    );
  }
}

test("a PERMANENT plan failure is attempted once, pauses the group with its reason, and resume allows one more", async () => {
  const created = await fleet.api("POST", "/api/v1/groups", {
    name: "lobby",
    platform: "PAPER",
    platformVersion: "1.21.4",
    acceptEula: true,
    // The seed's lobby: DYNAMIC 1..3, each placement a fresh instance id.
    scalingMode: "DYNAMIC",
    minInstances: 1,
    maxInstances: 3,
    memoryMb: 1024,
    spreadConstraint: "",
  });
  expect(created.status).toBe(201);

  const paused = await waitFor(
    async () => {
      const row = (await (await fleet.api("GET", "/api/v1/groups/lobby")).json()) as GroupRow;
      return row.pause ?? undefined;
    },
    { what: "the group to be paused", timeoutMs: 15_000 },
  );
  expect(paused.kind).toBe("failure");
  expect(paused.code).toBe("PLAN_FAILED");
  expect(paused.reason).toContain("no catalog entry");

  // Several ticks later: still exactly one attempt, and nothing reached the node.
  await ticks(3);
  const attempts = await instancesOf("lobby");
  expect(attempts).toHaveLength(1);
  expect(attempts[0]?.state).toBe("CRASHED");
  expect(fleet.daemons[0]?.starts).toBe(0);

  const list = (await (await fleet.api("GET", "/api/v1/groups")).json()) as { data: GroupRow[] };
  expect(list.data.find((g) => g.name === "lobby")?.pause?.code).toBe("PLAN_FAILED");
  const scheduler = (await (await fleet.api("GET", "/api/v1/scheduler")).json()) as {
    lastTick: { groups: Array<{ group: string; status: string; reason: string }> };
  };
  const diag = scheduler.lastTick.groups.find((g) => g.group === "lobby");
  expect(diag?.status).toBe("paused");
  expect(diag?.reason).toContain("PLAN_FAILED");

  const events = (await (
    await fleet.api("GET", "/api/v1/events/recent?types=GROUP_PAUSED&group=lobby")
  ).json()) as { data: Array<{ type: string; group: string; code: string; reason: string }> };
  expect(events.data).toHaveLength(1);
  expect(events.data[0]?.code).toBe("PLAN_FAILED");
  expect(events.data[0]?.reason).toContain("no catalog entry");

  const metrics = await scrape();
  expect(metrics).toMatch(/^prexorcloud_group_pauses_total\{code="PLAN_FAILED"\} 1$/m);
  expect(metrics).toMatch(/^prexorcloud_crash_loops_total 1$/m);
  expect(metrics).toMatch(/^prexorcloud_composition_planning_failures_total 1$/m);

  // Resume: one more attempt (the planner reuses the free id lobby-1, so attempts are counted by
  // the planning-failure counter), which fails the same way and pauses again.
  expect((await fleet.api("POST", "/api/v1/groups/lobby/resume")).status).toBe(200);
  await waitFor(async () => /^prexorcloud_composition_planning_failures_total 2$/m.test(await scrape()), {
    what: "the second attempt after resume",
    timeoutMs: 15_000,
  });
  await waitFor(
    async () => ((await (await fleet.api("GET", "/api/v1/groups/lobby")).json()) as GroupRow).pause,
    { what: "the second pause", timeoutMs: 15_000 },
  );
  await ticks(3);
  expect(await scrape()).toMatch(/^prexorcloud_composition_planning_failures_total 2$/m);
  expect(await scrape()).toMatch(/^prexorcloud_group_pauses_total\{code="PLAN_FAILED"\} 2$/m);
  expect(fleet.daemons[0]?.starts).toBe(0);
}, 40_000);

test("EULA not accepted: the group is paused after one attempt with that reason, and no start reaches a node", async () => {
  const created = await fleet.api("POST", "/api/v1/groups", {
    name: "survival",
    platform: "PAPER",
    platformVersion: "1.21.4",
    scalingMode: "STATIC",
    minInstances: 1,
    maxInstances: 1,
    memoryMb: 1024,
    spreadConstraint: "",
  });
  expect(created.status).toBe(201);
  const pause = await waitFor(
    async () => ((await (await fleet.api("GET", "/api/v1/groups/survival")).json()) as GroupRow).pause,
    { what: "the EULA pause", timeoutMs: 15_000 },
  );
  expect(pause.code).toBe("EULA_NOT_ACCEPTED");
  expect(pause.reason).toContain("minecraft.acceptEula");
  // Attempts are plans built and failed: the counter does not move while the group stays paused.
  const planned = async () =>
    Number(/^prexorcloud_composition_planning_failures_total (\d+)$/m.exec(await scrape())?.[1]);
  const attemptsBefore = await planned();
  await ticks(3);
  expect(await planned()).toBe(attemptsBefore);
  expect(await scrape()).toMatch(/^prexorcloud_group_pauses_total\{code="EULA_NOT_ACCEPTED"\} 1$/m);
  const [attempt] = await instancesOf("survival");
  expect(attempt?.state).toBe("CRASHED");
  expect(fleet.daemons[0]?.starts).toBe(0);
}, 40_000);

test("resume of a group that is not paused is a 409; of an unknown group a 404", async () => {
  const created = await fleet.api("POST", "/api/v1/groups", {
    name: "idle",
    platform: "CUSTOM",
    argvTemplate: ["sleep", "infinity"],
    scalingMode: "MANUAL",
    spreadConstraint: "",
  });
  expect(created.status).toBe(201);
  expect((await fleet.api("POST", "/api/v1/groups/idle/resume")).status).toBe(409);
  expect((await fleet.api("POST", "/api/v1/groups/nosuch/resume")).status).toBe(404);
});

test("a group naming a template that does not exist is refused at write with 422 naming it", async () => {
  const res = await fleet.api("POST", "/api/v1/groups", {
    name: "games",
    platform: "CUSTOM",
    argvTemplate: ["sleep", "infinity"],
    templates: ["no-such-template"],
  });
  expect(res.status).toBe(422);
  const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
  expect(body.error.code).toBe("VALIDATION_ERROR");
  expect(body.error.message).toContain("no-such-template");
  expect(body.error.details).toEqual({ templates: ["no-such-template"] });
  expect((await fleet.api("GET", "/api/v1/groups/games")).status).toBe(404);

  const patch = await fleet.api("PATCH", "/api/v1/groups/idle", { templates: ["missing-too"] });
  expect(patch.status).toBe(422);
  expect(((await patch.json()) as { error: { message: string } }).error.message).toContain("missing-too");
});
