/**
 * Writes docs/configuration.md from the config schemas: `bun run docs:config`. With `--check` it only
 * compares and exits 1 when the file is stale (tests/unit/config/config-reference.test.ts does the same).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configurationDocument } from "../src/config/config-reference.ts";

const target = join(resolve(import.meta.dir, ".."), "docs/configuration.md");
const wanted = configurationDocument();
const current = existsSync(target) ? readFileSync(target, "utf8") : "";
if (process.argv.includes("--check")) {
  if (current !== wanted) {
    console.error(`${target} is stale: run bun run docs:config`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else if (current === wanted) {
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, wanted, { mode: 0o644 });
  console.log(`wrote ${target}`);
}
