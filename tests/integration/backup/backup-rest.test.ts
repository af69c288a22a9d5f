import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestController, type TestController } from "../../support/controller.ts";
import { waitFor } from "../../support/wait.ts";

describe("backup REST routes", () => {
  let ctl: TestController;
  afterAll(async () => {
    await ctl?.stop();
  });

  test("backup under 8 concurrent group writers, verify, 422 on a flipped byte, restore, re-login", async () => {
    ctl = await startTestController();
    const token = await ctl.login();
    const json = async (res: Response) => ({
      status: res.status,
      // biome-ignore lint/suspicious/noExplicitAny: the test reads loosely shaped JSON answers
      body: (await res.json()) as Record<string, any>,
    });

    // least privilege: backups are for roles granted backups.* (VIEWER is not)
    expect(
      (
        await ctl.call("POST", "/api/v1/users", {
          token,
          body: { username: "viewer", password: "viewer-password-1", role: "VIEWER" },
        })
      ).status,
    ).toBe(201);
    const viewer = await ctl.login("viewer", "viewer-password-1");
    expect((await ctl.call("GET", "/api/v1/backups", { token: viewer })).status).toBe(403);
    expect((await ctl.call("POST", "/api/v1/backups", { token: viewer, body: {} })).status).toBe(403);
    expect(
      (await ctl.call("POST", "/api/v1/restore", { token: viewer, body: { id: "20260101-000000" } })).status,
    ).toBe(403);

    const acked: Array<{ name: string; at: number }> = [];
    const sent: Array<{ name: string; at: number }> = [];
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop && i < 200; i++) {
        const name = `w${w}-${i}`;
        sent.push({ name, at: performance.now() });
        const res = await ctl.call("POST", "/api/v1/groups", { token, body: { name } });
        if (res.status === 201) acked.push({ name, at: performance.now() });
        else await res.body?.cancel();
      }
    });
    await waitFor(() => acked.length >= 16, {
      timeoutMs: 30_000,
      intervalMs: 2,
      what: "writes acknowledged before the backup",
    });
    const before = performance.now();
    const created = await json(await ctl.call("POST", "/api/v1/backups", { token, body: { scope: "full" } }));
    const after = performance.now();
    stop = true;
    await Promise.all(writers);
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const metrics = await (await ctl.call("GET", "/metrics", { token })).text();
    expect(metrics).toMatch(/^prexorcloud_backup_last_success_timestamp_seconds [1-9]/m);
    expect(metrics).toMatch(/^prexorcloud_backup_duration_seconds_count 1$/m);
    expect(metrics).toMatch(/^prexorcloud_backup_failures_total 0$/m);
    const listed = await json(await ctl.call("GET", "/api/v1/backups", { token }));
    expect(listed.body.data.map((b: { id: string }) => b.id)).toContain(id);
    const verified = await json(await ctl.call("POST", `/api/v1/backups/${id}/verify`, { token }));
    expect(verified.body).toMatchObject({ id, valid: true, missingFiles: [], mismatchedFiles: [] });

    const dir = join(ctl.root, "backups", id);
    const inBundle = new Set(
      readFileSync(join(dir, "store/groups.ndjson"), "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { _id: string })._id),
    );
    for (const a of acked) if (a.at < before) expect(inBundle.has(a.name)).toBe(true);
    for (const s of sent) if (s.at > after) expect(inBundle.has(s.name)).toBe(false);

    // a flipped byte: verify names the file, restore is 422 RESTORE_REJECTED and changes nothing
    const copy = await json(await ctl.call("POST", "/api/v1/backups", { token, body: { scope: "mongo" } }));
    const bad = join(ctl.root, "backups", copy.body.id, "store/groups.ndjson");
    const bytes = readFileSync(bad);
    bytes[5] = bytes[5]! ^ 0x20;
    writeFileSync(bad, bytes);
    const badVerify = await json(await ctl.call("POST", `/api/v1/backups/${copy.body.id}/verify`, { token }));
    expect(badVerify.body.valid).toBe(false);
    expect(badVerify.body.mismatchedFiles).toEqual(["store/groups.ndjson"]);
    const groupsBefore = (await json(await ctl.call("GET", "/api/v1/groups?pageSize=500", { token }))).body;
    const rejected = await json(
      await ctl.call("POST", "/api/v1/restore", { token, body: { id: copy.body.id } }),
    );
    expect(rejected.status).toBe(422);
    expect(rejected.body.error.code).toBe("RESTORE_REJECTED");
    expect(rejected.body.error.message).toContain("store/groups.ndjson");
    expect((await json(await ctl.call("GET", "/api/v1/groups?pageSize=500", { token }))).body).toEqual(
      groupsBefore,
    );

    // dry run changes nothing; the real one brings the cut back and revokes earlier tokens
    const dry = await json(await ctl.call("POST", "/api/v1/restore", { token, body: { id, dryRun: true } }));
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect((await json(await ctl.call("GET", "/api/v1/groups?pageSize=500", { token }))).body).toEqual(
      groupsBefore,
    );
    const restored = await json(await ctl.call("POST", "/api/v1/restore", { token, body: { id } }));
    expect(restored.status).toBe(200);
    expect(restored.body.datastores.applied).toBe(true);
    expect((await ctl.call("GET", "/api/v1/groups", { token })).status).toBe(401);
    const fresh = await ctl.login();
    const names: string[] = [];
    for (let page = 1; ; page++) {
      const p = (
        await json(await ctl.call("GET", `/api/v1/groups?page=${page}&pageSize=100`, { token: fresh }))
      ).body;
      names.push(...(p.data as Array<{ name: string }>).map((g) => g.name));
      if (names.length >= p.total || p.data.length === 0) break;
    }
    expect(new Set(names)).toEqual(inBundle);
    const audit = await json(await ctl.call("GET", "/api/v1/audit?pageSize=100", { token: fresh }));
    expect(JSON.stringify(audit.body)).toContain("backup.restore");

    const pruned = await json(await ctl.call("POST", "/api/v1/backups/prune?keep=1", { token: fresh }));
    expect(pruned.body.keep).toHaveLength(1);
    expect((await json(await ctl.call("GET", "/api/v1/backups", { token: fresh }))).body.data).toHaveLength(
      1,
    );
    expect(
      (await ctl.call("DELETE", `/api/v1/backups/${pruned.body.keep[0]}`, { token: fresh })).status,
    ).toBe(200);
    expect((await ctl.call("GET", `/api/v1/backups/${pruned.body.keep[0]}`, { token: fresh })).status).toBe(
      404,
    );
    expect((await ctl.call("GET", "/api/v1/backups/..%2Fetc", { token: fresh })).status).toBe(422);
  }, 60_000);
});
