import { describe, expect, test } from "bun:test";
import {
  createCompositionPlan,
  extensionDownloadUrl,
  PLUGIN_TOKEN_PLACEHOLDER,
  planEnvironment,
  verifyPlanHash,
} from "../../../../src/core/plan/build-plan.ts";
import { computePlanHash } from "../../../../src/core/plan/plan-hash.ts";
import type { CompositionPlanContent } from "../../../../src/core/plan/plan-types.ts";

const content: CompositionPlanContent = {
  instanceId: "lobby-3",
  groupName: "lobby",
  nodeId: "node-eu-1",
  port: 30002,
  memoryMb: 2048,
  isolation: { cpuReservation: 0.25, diskReservationMb: 1024 },
  jvmArgs: ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=200"],
  env: { TZ: "Europe/Berlin", CLOUD_CONTROLLER_URL: "https://ctl.example.net:8080" },
  staticInstance: false,
  protectedPaths: [],
  templates: [
    { name: "base", hash: "a".repeat(64), source: "base" },
    { name: "base-paper", hash: "b".repeat(64), source: "platform-base" },
    { name: "lobby", hash: "c".repeat(64), source: "group", version: 17 },
  ],
  runtime: {
    jarFile: "server.jar",
    downloadUrl: "https://ctl.example.net:8080/api/v1/catalog/paper/1.21.4/server.jar",
    sha256: "d".repeat(64),
    platform: "PAPER",
    platformVersion: "1.21.4",
    category: "SERVER",
    configFormat: "PAPER",
    runtimeTarget: { platform: "PAPER", platformVersion: "1.21.4", family: "SERVER" },
  },
  extensions: [
    {
      moduleId: "stats-aggregator",
      extensionId: "paper-collector",
      target: "paper",
      activation: "always",
      variantId: "default",
      mcVersionRange: ">=1.20",
      artifact: "extensions/paper-collector.jar",
      downloadUrl:
        "https://ctl.example.net:8080/api/v1/modules/platform/stats-aggregator/artifacts/paper.jar",
      sha256: "e".repeat(64),
      installPath: "plugins/StatsCollector.jar",
    },
  ],
  configPatches: [
    { op: "SET", file: "server.properties", path: "max-players", value: "100" },
    { op: "SET", file: "server.properties", path: "motd", value: "Lobby" },
  ],
  variableOverrides: { spawn_world: "hub" },
};

const meta = { now: new Date("2026-11-23T19:22:00Z"), fencing: { scope: "group:lobby", token: 42 } };

/** Rebuilds an object with its keys inserted in reverse order, at every depth. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).reverse();
  return Object.fromEntries(entries.map(([k, v]) => [k, reverseKeys(v)])) as T;
}

describe("computePlanHash", () => {
  test("golden hash (daemon de-duplication and takeover re-dispatch depend on it never drifting)", () => {
    expect(computePlanHash(content)).toBe("a840a4905f4427f6be0380c6df37a65677980a0f049b96a03a2ecb62b35a92b3");
  });

  test("is stable under key reordering at every depth", () => {
    expect(computePlanHash(reverseKeys(content))).toBe(computePlanHash(content));
  });

  test("ignores undefined optional fields", () => {
    const withUndefined = { ...content, runtime: { ...content.runtime, runtimeTarget: undefined } };
    const without = { ...content, runtime: { ...content.runtime } };
    delete (without.runtime as { runtimeTarget?: unknown }).runtimeTarget;
    expect(computePlanHash(withUndefined)).toBe(computePlanHash(without));
  });

  const changes: [string, Partial<CompositionPlanContent>][] = [
    ["instanceId", { instanceId: "lobby-4" }],
    ["groupName", { groupName: "lobby2" }],
    ["nodeId", { nodeId: "node-eu-2" }],
    ["port", { port: 30003 }],
    ["memoryMb", { memoryMb: 2049 }],
    ["isolation", { isolation: { cpuReservation: 0.5, diskReservationMb: 1024 } }],
    ["jvmArgs order", { jvmArgs: ["-XX:MaxGCPauseMillis=200", "-XX:+UseG1GC"] }],
    ["env value", { env: { ...content.env, TZ: "UTC" } }],
    ["staticInstance", { staticInstance: true }],
    ["protectedPaths", { protectedPaths: ["world"] }],
    [
      "template hash",
      { templates: [...content.templates.slice(0, 2), { ...content.templates[2]!, hash: "f".repeat(64) }] },
    ],
    ["template order", { templates: [content.templates[1]!, content.templates[0]!, content.templates[2]!] }],
    ["runtime sha256", { runtime: { ...content.runtime, sha256: "0".repeat(64) } }],
    ["extensions", { extensions: [] }],
    [
      "config patch value",
      { configPatches: [content.configPatches[0]!, { ...content.configPatches[1]!, value: "Hub" }] },
    ],
    ["config patch order", { configPatches: [content.configPatches[1]!, content.configPatches[0]!] }],
    ["config patch removed", { configPatches: [content.configPatches[0]!] }],
    ["variableOverrides", { variableOverrides: { spawn_world: "arena" } }],
  ];
  test.each(changes)("changes when %s changes", (_field, change) => {
    expect(computePlanHash({ ...content, ...change })).not.toBe(computePlanHash(content));
  });

  test("adjacent numeric fields cannot run together", () => {
    expect(computePlanHash({ ...content, port: 2556, memoryMb: 12048 })).not.toBe(
      computePlanHash({ ...content, port: 25561, memoryMb: 2048 }),
    );
  });
});

describe("createCompositionPlan", () => {
  const plan = createCompositionPlan(content, meta);

  test("seals the content with its hash, creation time, fencing and a token placeholder", () => {
    expect(plan.planHash).toBe(computePlanHash(content));
    expect(plan.createdAt).toBe("2026-11-23T19:22:00.000Z");
    expect(plan.fencing).toEqual({ scope: "group:lobby", token: 42 });
    expect(plan.pluginToken).toBe(PLUGIN_TOKEN_PLACEHOLDER);
    expect(plan).not.toHaveProperty("controllerSeeds");
    expect(verifyPlanHash(plan)).toBe(true);
  });

  test("bookkeeping fields stay outside the hash", () => {
    const other = createCompositionPlan(content, {
      now: new Date("2030-01-01T00:00:00Z"),
      fencing: { scope: "group:lobby", token: 43 },
      controllerSeeds: ["ctl-1:9090", "ctl-2:9090"],
    });
    expect(other.planHash).toBe(plan.planHash);
    expect(verifyPlanHash({ ...other, pluginToken: "ptk_real_secret" })).toBe(true);
  });

  test("verifyPlanHash notices tampering", () => {
    expect(verifyPlanHash({ ...plan, port: 1 })).toBe(false);
    expect(verifyPlanHash({ ...plan, planHash: "0".repeat(64) })).toBe(false);
  });
});

describe("plan helpers", () => {
  test("planEnvironment adds the controller URL, which wins over the group env", () => {
    expect(planEnvironment({ TZ: "UTC", CLOUD_CONTROLLER_URL: "spoofed" }, "https://ctl:8080")).toEqual({
      TZ: "UTC",
      CLOUD_CONTROLLER_URL: "https://ctl:8080",
    });
  });

  test("extensionDownloadUrl follows the module artifact route and escapes segments", () => {
    expect(extensionDownloadUrl("https://ctl:8080/", "stats-aggregator", "paper/Stats Collector.jar")).toBe(
      "https://ctl:8080/api/v1/modules/platform/stats-aggregator/artifacts/paper/Stats%20Collector.jar",
    );
  });
});
