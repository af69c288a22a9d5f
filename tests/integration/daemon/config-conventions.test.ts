/**
 * The daemon applies a plan's config patches after the templates (the CONFIG_PATCH stage) and writes
 * the forwarding secret the start carries: a Velocity proxy of a network gets modern forwarding and
 * `forwarding.secret` (0600), a Paper backend the `proxies.velocity` block and offline mode, both
 * listening on the port the daemon gave them. A patch that does not fit the files is refused
 * permanently at that stage.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { conventionPatches } from "../../../src/core/plan/minecraft-conventions.ts";
import { freePort } from "../../support/ports.ts";
import {
  createTestSupervisor,
  layer,
  type TestSupervisor,
  testPlan,
} from "../../support/workloads/harness.ts";

setDefaultTimeout(30_000);

const SECRET = "test-forwarding-secret-0123456789";
const VELOCITY_LAYER = layer("base-velocity", {
  "velocity.toml":
    'config-version = "2.7"\nbind = "0.0.0.0:25577"\nmotd = "hi"\n[servers]\nlobby = "127.0.0.1:30066"\ntry = ["lobby"]\n',
});
const BROKEN_LAYER = layer("broken", { "config/paper-global.yml": "proxies: [unclosed\n" });
const sleeper = { kind: "custom", argv: ["sleep", "60"] } as const;

let harness: TestSupervisor;
beforeAll(async () => {
  harness = await createTestSupervisor({ layers: [VELOCITY_LAYER, BROKEN_LAYER] });
});
afterAll(() => harness.cleanup());

const dirOf = (instanceId: string) => join(harness.config.instancesDirectory, instanceId);

test("a Velocity proxy of a network: bind on its port, modern forwarding, the secret in forwarding.secret", async () => {
  const port = await freePort();
  const plan = testPlan({
    port,
    templates: [VELOCITY_LAYER.ref],
    runtime: {
      jarFile: "velocity.jar",
      downloadUrl: "",
      sha256: "",
      platform: "VELOCITY",
      platformVersion: "3.4.0",
      category: "PROXY",
    },
    configPatches: conventionPatches("VELOCITY", { kind: "proxy" }),
  });
  expect(JSON.stringify(plan)).not.toContain(SECRET);
  const outcome = await harness.supervisor.start({ plan, launch: sleeper, forwardingSecret: SECRET });
  expect(outcome.accepted).toBe(true);
  const toml = parseToml(readFileSync(join(dirOf(plan.instanceId), "velocity.toml"), "utf8"));
  expect(toml).toMatchObject({
    "config-version": "2.7",
    bind: `0.0.0.0:${port}`,
    motd: "hi",
    "player-info-forwarding-mode": "modern",
    "forwarding-secret-file": "forwarding.secret",
  });
  const secretFile = join(dirOf(plan.instanceId), "forwarding.secret");
  expect(readFileSync(secretFile, "utf8")).toBe(SECRET);
  expect(statSync(secretFile).mode & 0o777).toBe(0o600);
  await harness.supervisor.stop(plan.instanceId, { force: true });
});

test("a Paper backend: offline mode, its port, and the proxies.velocity block with the same secret", async () => {
  const port = await freePort();
  const plan = testPlan({
    port,
    configPatches: conventionPatches("PAPER", { kind: "backend", proxyFormat: "VELOCITY" }),
  });
  const outcome = await harness.supervisor.start({ plan, launch: sleeper, forwardingSecret: SECRET });
  expect(outcome.accepted).toBe(true);
  const properties = readFileSync(join(dirOf(plan.instanceId), "server.properties"), "utf8").split("\n");
  expect(properties).toContain(`server-port=${port}`);
  expect(properties).toContain("server-ip=");
  expect(properties).toContain("online-mode=false");
  // The template's other keys are still there.
  expect(properties.some((line) => line.startsWith("motd="))).toBe(true);
  const paper = parseYaml(readFileSync(join(dirOf(plan.instanceId), "config/paper-global.yml"), "utf8"));
  expect(paper).toEqual({ proxies: { velocity: { enabled: true, "online-mode": true, secret: SECRET } } });
  // Only Velocity reads forwarding.secret.
  expect(() => statSync(join(dirOf(plan.instanceId), "forwarding.secret"))).toThrow();
  await harness.supervisor.stop(plan.instanceId, { force: true });
});

test("a group patch after the conventions wins on the same key", async () => {
  const port = await freePort();
  const plan = testPlan({
    port,
    configPatches: [
      ...conventionPatches("PAPER", { kind: "none" }),
      { op: "SET", file: "server.properties", path: "server-ip", value: "127.0.0.1" },
    ],
  });
  expect((await harness.supervisor.start({ plan, launch: sleeper })).accepted).toBe(true);
  const properties = readFileSync(join(dirOf(plan.instanceId), "server.properties"), "utf8").split("\n");
  expect(properties).toContain("server-ip=127.0.0.1");
  expect(properties.filter((line) => line.startsWith("server-ip="))).toHaveLength(1);
  await harness.supervisor.stop(plan.instanceId, { force: true });
});

test("a patch that does not fit the template's file is refused at CONFIG_PATCH, permanently", async () => {
  const plan = testPlan({
    port: await freePort(),
    templates: [BROKEN_LAYER.ref],
    configPatches: conventionPatches("PAPER", { kind: "backend", proxyFormat: "VELOCITY" }),
  });
  expect(await harness.supervisor.start({ plan, launch: sleeper, forwardingSecret: SECRET })).toMatchObject({
    accepted: false,
    stage: "CONFIG_PATCH",
    errorCode: "CONFIG_PATCH_FAILED",
    disposition: "PERMANENT",
  });
});
