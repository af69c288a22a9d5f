import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../support/adapters.ts";
import { repoRoot } from "../../support/binary.ts";

test("the README's backup alert rules pass `promtool check rules` and use the exported metric names", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const block = /<!-- alert-rules:backup -->\s*```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  for (const name of [
    "prexorcloud_backup_last_success_timestamp_seconds",
    "prexorcloud_backup_failures_total",
  ]) {
    expect(block).toContain(name);
  }
  const which = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  if (which.status !== 0) {
    if (process.env.CI) throw new Error("promtool missing in CI (tests/run.sh installs prometheus)");
    console.warn("promtool not installed: rule syntax not checked");
    return;
  }
  const file = join(tempDir("prexor-rules-"), "backup-rules.yml");
  writeFileSync(file, block!);
  const res = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
  expect(`${res.stdout}${res.stderr}`).toContain("SUCCESS: 2 rules found");
  expect(res.status).toBe(0);
});
