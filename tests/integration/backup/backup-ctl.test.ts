import { afterAll, expect, test } from "bun:test";
import { tempDir } from "../../support/adapters.ts";
import { ctlPath, ensureBinary } from "../../support/binary.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

let ctl: TestController | undefined;
afterAll(async () => {
  await ctl?.stop();
});

test("prexorctl backup create/list/verify/prune and restore with its confirmation", async () => {
  ensureBinary();
  ctl = await startTestController();
  const token = await ctl.login();
  const env = { PREXOR_CONTROLLER: ctl.url, PREXOR_TOKEN: token, XDG_CONFIG_HOME: tempDir("ctl-cfg-") };
  // asynchronous: the controller answering it runs in this process
  const exec = async (args: string[], vars: Record<string, string>) => {
    const proc = Bun.spawn([ctlPath, ...args], {
      env: { ...process.env, NO_COLOR: "1", ...vars },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill(), 30_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  };
  const run = (...args: string[]) => exec(args, env);
  expect((await ctl.call("POST", "/api/v1/groups", { token, body: { name: "lobby" } })).status).toBe(201);

  const created = await run("backup", "create", "--scope", "full", "-o", "json");
  expect(created.code).toBe(0);
  const manifest = JSON.parse(created.stdout) as { id: string; documentCount: number };
  expect(manifest.documentCount).toBeGreaterThan(0);
  expect((await run("backup", "create", "--scope", "everything")).code).toBe(2);
  expect((await run("backup", "list")).stdout).toContain(manifest.id);
  const verified = await run("backup", "verify", manifest.id);
  expect(verified.code).toBe(0);
  expect(verified.stdout).toContain("valid");

  // no TTY and no -y: refused before anything is sent
  const unconfirmed = await run("restore", manifest.id);
  expect(unconfirmed.code).toBe(2);
  expect(unconfirmed.stderr).toContain("--yes");
  expect((await ctl.call("DELETE", "/api/v1/groups/lobby", { token })).status).toBe(200);
  const dry = await run("restore", manifest.id, "--dry-run");
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain("dry run: nothing changed");
  expect((await ctl.call("GET", "/api/v1/groups/lobby", { token })).status).toBe(404);
  const restored = await run("restore", manifest.id, "-y");
  expect(restored.stderr).not.toContain("error");
  expect(restored.code).toBe(0);
  expect(restored.stdout).toContain("log in again");
  // the token was issued before the restore
  expect((await run("backup", "list")).code).toBe(3);
  const fresh = await ctl.login();
  expect((await ctl.call("GET", "/api/v1/groups/lobby", { token: fresh })).status).toBe(200);
  const pruned = await exec(["backup", "prune", "--keep", "0"], { ...env, PREXOR_TOKEN: fresh });
  expect(pruned.code).toBe(0);
  expect(pruned.stdout).toContain("deleted 1");
}, 60_000);
