/**
 * kill -9 of the controller in the middle of a restore (compiled binary, embedded store). The
 * restore journal survives in the store; the restarted controller runs the restore again before it
 * serves anything, then serves exactly the bundle's state: no answer after the restart shows a
 * half-restored store (each is a 503 or the whole bundle state).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, serving } from "../support/admin-api.ts";
import { type Running, runBinary, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const PASSWORD = "restore-kill-password-1";
const FILLER = 150_000;
const running: Running[] = [];
const root = tempDir("prexor-restore-kill-");
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  if (!process.env.KEEP_ROOT) rmSync(root, { recursive: true, force: true });
  else console.log(`root: ${root}`);
});

test("kill -9 during a restore: the restarted controller refuses requests, resumes, then serves the bundle", async () => {
  const port = await freePort();
  mkdirSync(join(root, "config"), { recursive: true });
  writeFileSync(
    join(root, "config/controller.yml"),
    [
      "http:",
      "  host: 127.0.0.1",
      `  port: ${port}`,
      "grpc:",
      "  host: 127.0.0.1",
      `  port: ${await freePort()}`,
      "security:",
      `  initialAdminPassword: ${PASSWORD}`,
      "  rateLimiting:",
      "    perIpPerMinute: 1000000",
      "    perUserPerMinute: 1000000",
      "",
    ].join("\n"),
  );
  const start = async () => {
    const proc = startBinary(["controller", "--root", root]);
    running.push(proc);
    await waitFor(() => serving(port), {
      timeoutMs: 30_000,
      what: `controller: ${proc.output().slice(-400)}`,
    });
    return proc;
  };
  const api = new AdminApi(`http://127.0.0.1:${port}`);
  const login = () =>
    waitFor(
      () =>
        api.login(PASSWORD).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, what: "admin login" },
    );

  let proc = await start();
  await login();
  const groups = ["alpha", "beta", "gamma"];
  for (const name of groups) expect((await api.call("POST", "/api/v1/groups", { name })).status).toBe(201);
  expect(await proc.stop("SIGTERM")).toBe(0);
  running.splice(0);

  // Bulk the store up directly (the controller is stopped) so the restore takes long enough to kill.
  const store = await SqliteStore.open({ file: join(root, "data/prexor.db") });
  const filler = store.collection("bulk_records");
  for (let i = 0; i < FILLER; i += 5_000) {
    await filler.importMany(
      Array.from({ length: 5_000 }, (_, j) => ({
        _id: `r${String(i + j).padStart(7, "0")}`,
        pad: "x".repeat(64),
      })),
    );
  }
  await store.close();

  proc = await start();
  await login();
  const backup = await api.call<{ id: string }>("POST", "/api/v1/backups", { scope: "mongo" });
  expect(backup.status).toBe(201);
  const id = backup.body.id;
  // Changes after the backup, which the restore must take away.
  expect((await api.call("POST", "/api/v1/groups", { name: "after-backup" })).status).toBe(201);

  // Start the restore, and kill -9 once it is loading documents.
  const restoring = api.request("POST", "/api/v1/restore", { id }).catch(() => null);
  await waitFor(
    async () => {
      const p = await api.call<{ active: { kind: string; documents: number } | null }>(
        "GET",
        "/api/v1/backups/progress",
      );
      return p.body.active?.kind === "restore" && p.body.active.documents > 0;
    },
    { timeoutMs: 30_000, intervalMs: 5, what: "the restore loading documents" },
  );
  proc.child.kill("SIGKILL");
  await proc.stop();
  running.splice(0);
  await restoring;

  // The journal is in the store: the restore did not finish.
  const half = await SqliteStore.open({ file: join(root, "data/prexor.db") });
  const journals = half.collection<{ _id: string; bundle: string; by?: string }>("restore_journal");
  const journal = await journals.get("current");
  expect(journal?.bundle).toBe(id);
  // Had another controller started it (the bundle on its disk), this one would not start, and say why.
  await journals.put({ ...journal!, by: "another-controller" });
  await half.close();
  const refused = runBinary(["controller", "--root", root], { timeoutMs: 30_000 });
  expect(refused.code).not.toBe(0);
  expect(refused.stdout + refused.stderr).toContain(`a restore of backup ${id} stopped`);
  expect(refused.stdout + refused.stderr).toContain("another-controller");
  const back = await SqliteStore.open({ file: join(root, "data/prexor.db") });
  await back.collection("restore_journal").put(journal!);
  await back.close();

  // Restarted: every answer is a 503 naming the bundle, or exactly the bundle's groups.
  proc = await start();
  const seen = { refused: 0, whole: 0 };
  await waitFor(
    async () => {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      const readyBody = (await ready.json()) as { checks: { restore: string }; reason?: string };
      const token = await api.login(PASSWORD).then(
        () => true,
        () => false,
      );
      if (ready.status === 503) {
        expect(readyBody.checks.restore).toBe("DOWN");
        expect(readyBody.reason).toContain(id);
      }
      if (!token) return false;
      const res = await api.call<{
        data: Array<{ name: string }>;
        error?: { code: string; message: string };
      }>("GET", "/api/v1/groups?page=1&pageSize=50");
      if (res.status === 503) {
        expect(res.body.error?.code).toBe("UNAVAILABLE");
        seen.refused += 1;
        return false;
      }
      expect(res.status).toBe(200);
      expect(res.body.data.map((g) => g.name).sort()).toEqual(groups);
      seen.whole += 1;
      return ready.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 20, what: "the resumed restore finished" },
  );
  expect(proc.output()).toContain("did not finish; running it again");
  expect(proc.output()).toContain("run again and finished");
  // Writes work again.
  expect((await api.call("POST", "/api/v1/groups", { name: "after-restore" })).status).toBe(201);
  console.log(`restore kill: ${seen.refused} answers refused (503) before the resumed restore finished`);
}, 180_000);
