/**
 * The configuration reference comes from the schemas: every key has a type, a default (or is
 * optional) and a description, `prexor config reference` prints all of them, and docs/configuration.md
 * is exactly what `bun run docs:config` writes (this test fails when it is stale).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONFIG_FILES,
  configurationDocument,
  referenceEntries,
} from "../../../src/config/config-reference.ts";

const root = join(import.meta.dir, "../../..");

function prexor(args: string[]) {
  return spawnSync("bun", ["src/main.ts", ...args], { cwd: root, encoding: "utf8", timeout: 30_000 });
}

describe("config reference", () => {
  for (const [role, { schema }] of Object.entries(CONFIG_FILES)) {
    test(`every ${role}.yml key has a type, a default or is optional, and a description`, () => {
      const entries = referenceEntries(schema);
      expect(entries.length).toBeGreaterThan(20);
      const undocumented = entries.filter((e) => e.description.trim() === "").map((e) => e.key);
      expect(undocumented).toEqual([]);
      expect(entries.filter((e) => e.type === "value").map((e) => e.key)).toEqual([]);
      expect(entries.filter((e) => e.default === "" && !e.optional).map((e) => e.key)).toEqual([]);
      expect(new Set(entries.map((e) => e.key)).size).toBe(entries.length);
    });
  }

  test("known keys read as the loader defines them", () => {
    const controller = referenceEntries(CONFIG_FILES.controller.schema);
    expect(controller.find((e) => e.key === "http.port")).toMatchObject({
      type: "integer (1–65535)",
      default: "8080",
    });
    expect(controller.find((e) => e.key === "catalog.downloads.api")).toMatchObject({
      type: 'one of "v3", "v2"',
      default: '"v3"',
    });
    expect(controller.find((e) => e.key === "minecraft.acceptEula")).toMatchObject({ default: "false" });
    expect(controller.find((e) => e.key === "modules.signing.required")).toMatchObject({ optional: true });
  });

  test("docs/configuration.md is generated from the schemas (run `bun run docs:config` when this fails)", () => {
    const onDisk = readFileSync(join(root, "docs/configuration.md"), "utf8");
    expect(onDisk).toBe(configurationDocument());
  });

  test("`prexor config reference` prints every key of both files; a bad --role is a usage error", () => {
    const all = prexor(["config", "reference"]);
    expect(all.status).toBe(0);
    for (const { schema, file } of Object.values(CONFIG_FILES)) {
      expect(all.stdout).toContain(file);
      for (const e of referenceEntries(schema)) expect(all.stdout).toContain(`  ${e.key}\n`);
    }
    const markdown = prexor(["config", "reference", "--role", "daemon", "--format", "markdown"]);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toContain("| `nodeId` |");
    expect(markdown.stdout).not.toContain("controller.yml");
    const bad = prexor(["config", "reference", "--role", "proxy"]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--role must be controller or daemon");
  });
});
