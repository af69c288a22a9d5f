/**
 * The daemon half of plugin-less proxy routing, on a real supervised process: a proxy workload
 * (a shell that prints a Velocity-style ready line and echoes every console line it reads) gets a
 * table → velocity.toml's servers / try / forced-hosts are rewritten (other keys kept) and the
 * console receives `velocity reload`; the same table again writes and reloads nothing; a proxy that
 * is not RUNNING is refused. After a daemon restart the re-adopted proxy takes the next table the
 * same way (the reload reaches it through its monitor's stdin). A Waterfall proxy gets config.yml and greload.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { freePort } from "../../support/ports.ts";
import { waitFor } from "../../support/wait.ts";
import {
  createTestSupervisor,
  layer,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";

setDefaultTimeout(30_000);

const PROXY_LAYER = layer("base-velocity", {
  "velocity.toml":
    'bind = "0.0.0.0:25577"\nmotd = "hi"\n[servers]\nlobby = "127.0.0.1:30066"\ntry = ["lobby"]\n[forced-hosts]\n"lobby.example.com" = ["lobby"]\n',
});
const echoProxy = {
  kind: "custom",
  argv: [
    "sh",
    "-c",
    'echo \'Done (0.1s)! For help, type "help"\'; while read line; do echo "console: $line"; done',
  ],
  stopCommand: "end",
} as const;
const table = (...names: string[]) => ({
  servers: names.map((name, i) => ({ name, address: `10.0.0.5:${30001 + i}` })),
  try: names,
  forcedHosts: names.length > 0 ? [{ host: "lobby.example.com", servers: [names[0]!] }] : [],
});

const harnesses: TestSupervisor[] = [];
afterAll(async () => {
  const last = harnesses.at(-1);
  await last?.cleanup();
  if (last) rmSync(last.dir, { recursive: true, force: true });
});

test("a proxy's velocity.toml follows its table and each change reaches its console as velocity reload", async () => {
  const first = await createTestSupervisor({ layers: [PROXY_LAYER] });
  harnesses.push(first);
  const plan = testPlan({
    port: await freePort(),
    templates: [PROXY_LAYER.ref],
    runtime: {
      jarFile: "velocity.jar",
      downloadUrl: "",
      sha256: "",
      platform: "VELOCITY",
      platformVersion: "3.4.0",
      category: "PROXY",
    },
  });
  const id = plan.instanceId;
  const toml = () =>
    parseToml(readFileSync(join(first.config.instancesDirectory, id, "velocity.toml"), "utf8"));
  const reloads = (harness: TestSupervisor) =>
    harness.supervisor.consoleTail(id, 500).filter((l) => l.includes("console: velocity reload")).length;

  // Not RUNNING yet (or unknown): refused, the file untouched.
  expect(await first.supervisor.applyProxyRoutes("nobody", table("lobby-1"))).toMatchObject({ ok: false });
  expect((await first.supervisor.start({ plan, launch: echoProxy })).accepted).toBe(true);
  await first.waitForState(id, "RUNNING");

  expect(await first.supervisor.applyProxyRoutes(id, table("lobby-1"))).toEqual({ ok: true, changed: true });
  expect(toml()).toEqual({
    bind: "0.0.0.0:25577",
    motd: "hi",
    servers: { "lobby-1": "10.0.0.5:30001", try: ["lobby-1"] },
    "forced-hosts": { "lobby.example.com": ["lobby-1"] },
  });
  await waitFor(() => reloads(first) === 1, { what: "the first reload on the console" });

  // The same table: no write, no reload.
  expect(await first.supervisor.applyProxyRoutes(id, table("lobby-1"))).toEqual({ ok: true, changed: false });
  // Two tables at once are applied one after the other, the later one last.
  const [a, b] = await Promise.all([
    first.supervisor.applyProxyRoutes(id, table("lobby-1", "lobby-2")),
    first.supervisor.applyProxyRoutes(id, table("lobby-2")),
  ]);
  expect([a.changed, b.changed]).toEqual([true, true]);
  expect((toml() as { servers: unknown }).servers).toEqual({ "lobby-2": "10.0.0.5:30001", try: ["lobby-2"] });
  await waitFor(() => reloads(first) === 3, { what: "one reload per change" });

  // The daemon restarts and leaves the proxy running; the next daemon re-adopts it and applies the
  // current table to it.
  first.supervisor.detachAll();
  const second = await createTestSupervisor({ dir: first.dir, layers: [PROXY_LAYER] });
  harnesses.push(second);
  expect(second.supervisor.get(id)?.state).toBe("RUNNING");
  expect(await second.supervisor.applyProxyRoutes(id, table("lobby-2"))).toEqual({
    ok: true,
    changed: false,
  });
  const before = reloads(second);
  expect(await second.supervisor.applyProxyRoutes(id, table("lobby-3"))).toEqual({ ok: true, changed: true });
  expect((toml() as { servers: unknown }).servers).toEqual({ "lobby-3": "10.0.0.5:30001", try: ["lobby-3"] });
  await waitFor(() => reloads(second) === before + 1, {
    what: "the re-adopted proxy's console got the reload",
  });

  // A stopped proxy takes no routes.
  await second.supervisor.stop(id, { force: true });
  expect(await second.supervisor.applyProxyRoutes(id, table("lobby-4"))).toMatchObject({
    ok: false,
    changed: false,
  });
});

test("a Waterfall proxy: config.yml servers and the first listener's priorities, reloaded with greload", async () => {
  const bungeeLayer = layer("base-bungeecord", {
    "config.yml":
      "# BungeeCord\nip_forward: true\nlisteners:\n- host: 0.0.0.0:25577\n  priorities:\n  - lobby\nservers:\n  lobby:\n    address: localhost:25565\n",
  });
  const harness = await createTestSupervisor({ layers: [bungeeLayer] });
  try {
    const plan = testPlan({
      port: await freePort(),
      templates: [bungeeLayer.ref],
      runtime: {
        jarFile: "waterfall.jar",
        downloadUrl: "",
        sha256: "",
        platform: "WATERFALL",
        platformVersion: "1.21",
        category: "PROXY",
      },
    });
    // BungeeCord and Waterfall announce their listener rather than a Done line.
    const launch = {
      ...echoProxy,
      argv: [
        "sh",
        "-c",
        "echo 'Listening on /0.0.0.0:25577'; while read line; do echo \"console: $line\"; done",
      ],
    };
    expect((await harness.supervisor.start({ plan, launch })).accepted).toBe(true);
    await harness.waitForState(plan.instanceId, "RUNNING");
    expect(await harness.supervisor.applyProxyRoutes(plan.instanceId, table("lobby-1"))).toEqual({
      ok: true,
      changed: true,
    });
    const text = readFileSync(join(harness.config.instancesDirectory, plan.instanceId, "config.yml"), "utf8");
    expect(text).toContain("# BungeeCord");
    expect(parseYaml(text)).toMatchObject({
      ip_forward: true,
      listeners: [
        { host: "0.0.0.0:25577", priorities: ["lobby-1"], forced_hosts: { "lobby.example.com": "lobby-1" } },
      ],
      servers: { "lobby-1": { address: "10.0.0.5:30001", restricted: false } },
    });
    await waitFor(
      () => harness.supervisor.consoleTail(plan.instanceId, 100).some((l) => l.includes("console: greload")),
      { what: "greload on the console" },
    );
  } finally {
    await harness.cleanup();
  }
});
