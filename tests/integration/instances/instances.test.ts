/**
 * The instance side below the binary: the wire plan decodes to exactly the content the controller
 * hashed (so the daemon can verify planHash), template layers survive their transfer encoding, and
 * workload tokens expire, refresh within their grace, enforce a strictly increasing sequence and
 * stop working when revoked.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { buildPlanContent } from "../../../src/controller/instances/plan-builder.ts";
import { WorkloadTokens } from "../../../src/controller/workload/workload-tokens.ts";
import { GroupCreateSchema } from "../../../src/core/groups/group-schema.ts";
import { computePlanHash, createCompositionPlan } from "../../../src/core/plan/index.ts";
import { hashTemplateFiles } from "../../../src/core/templates/index.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { CompositionPlan } from "../../../src/wire/index.ts";
import { decodeLayerBundle, encodeLayerBundle } from "../../../src/wire/layer-bundle.ts";
import { planFromWire, planToWire } from "../../../src/wire/plan-wire.ts";
import { tempDir } from "../../support/adapters.ts";

const group = Value.Default(GroupCreateSchema, {
  name: "lobby",
  platform: "PAPER",
  platformVersion: "1.21.4",
  jvmArgs: ["-XX:+UseG1GC"],
  env: { B: "2", A: "1" },
  cpuReservation: 0.25,
  diskReservationMb: 512,
  configPatches: { "server.properties": { "view-distance": 6, motd: "hi" } },
}) as Parameters<typeof buildPlanContent>[0]["group"];

describe("composition plan on the wire", () => {
  test("round-trips to the same planHash through encode/decode", () => {
    const { content } = buildPlanContent({
      instanceId: "lobby-1",
      nodeId: "node-a",
      port: 30001,
      group,
      artifact: {
        platform: "PAPER",
        version: "1.21.4",
        sha256: "a".repeat(64),
        source: { kind: "controller", file: "x" },
        recommended: true,
        ready: true,
        build: 123,
        origin: "papermc",
      },
      templates: new Map([
        ["base", ""],
        ["lobby", "b".repeat(64)],
      ]),
      controllerUrl: "http://127.0.0.1:8080",
      placedAt: 1_700_000_000_000,
    });
    const plan = createCompositionPlan(content, {
      now: new Date(0),
      fencing: { scope: "group:lobby", token: 7 },
    });
    const bytes = CompositionPlan.encode(planToWire(plan, 0)).finish();
    const decoded = planFromWire(CompositionPlan.decode(bytes));
    expect(computePlanHash(decoded)).toBe(plan.planHash);
    expect(decoded.templates.map((t) => t.source)).toEqual(["base", "group"]);
    // The group's own JVM flags replace the platform default.
    expect(decoded.jvmArgs).toEqual(["-XX:+UseG1GC"]);
    // The platform's conventions first (the port and listen address), then the group's own keys.
    expect(decoded.configPatches).toEqual([
      { op: "SET", file: "server.properties", path: "server-port", value: "%PORT%" },
      { op: "SET", file: "server.properties", path: "server-ip", value: "" },
      { op: "SET", file: "server.properties", path: "motd", value: "hi" },
      { op: "SET", file: "server.properties", path: "view-distance", value: "6" },
    ]);
  });

  test("a re-placement of the same id at another time is a different plan", () => {
    const at = (placedAt: number) =>
      computePlanHash(
        buildPlanContent({
          instanceId: "lobby-1",
          nodeId: "node-a",
          port: 30001,
          group,
          artifact: null,
          templates: new Map(),
          controllerUrl: "http://c",
          placedAt,
        }).content,
      );
    expect(at(1)).toBe(at(1));
    expect(at(1)).not.toBe(at(2));
  });

  test("layer bundles keep every byte and the content hash", () => {
    const files = [
      { path: "plugins/x.jar", bytes: new Uint8Array([0, 255, 1, 2]) },
      { path: "server.properties", bytes: new TextEncoder().encode("motd=é\n") },
      { path: "empty.txt", bytes: new Uint8Array() },
    ];
    const decoded = decodeLayerBundle(encodeLayerBundle(files));
    expect(hashTemplateFiles(decoded)).toBe(hashTemplateFiles(files));
    expect(() => decodeLayerBundle(encodeLayerBundle(files).subarray(0, 10))).toThrow(/truncated/);
  });
});

describe("workload tokens", () => {
  test("expire, refresh within grace, enforce sequence, revoke", async () => {
    let now = 1_000_000;
    const store = await SqliteStore.open({ file: join(tempDir(), "prexor.db") });
    try {
      const tokens = new WorkloadTokens(store, () => now, 1000);
      const token = await tokens.mint({ instanceId: "lobby-1", group: "lobby" });
      expect(token).toMatch(/^ptk_/);
      expect(await tokens.authenticate(token)).toEqual({ instanceId: "lobby-1", group: "lobby" });
      expect(await tokens.authenticate("ptk_forged")).toBeNull();

      expect(await tokens.acceptSequence("lobby-1", 1)).toBe(true);
      expect(await tokens.acceptSequence("lobby-1", 1)).toBe(false);
      expect(await tokens.acceptSequence("lobby-1", 5)).toBe(true);
      expect(await tokens.acceptSequence("lobby-1", 4)).toBe(false);

      now += 1500; // expired, still within the grace of one TTL
      expect(await tokens.authenticate(token)).toBeNull();
      const refreshed = await tokens.refresh(token);
      expect(refreshed?.instanceId).toBe("lobby-1");
      expect(await tokens.authenticate(refreshed!.token)).not.toBeNull();
      expect(await tokens.refresh(token)).toBeNull(); // the old one was rotated away
      expect(await tokens.acceptSequence("lobby-1", 5)).toBe(false); // sequence survives rotation

      now += 2500; // past expiry plus grace
      expect(await tokens.refresh(refreshed!.token)).toBeNull();

      const fresh = await tokens.mint({ instanceId: "lobby-1", group: "lobby" });
      await tokens.revoke("lobby-1");
      expect(await tokens.authenticate(fresh)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
