import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { GENERATED_HEADER } from "../../../build/gen-proto.ts";
import { tempDir } from "../../support/temp-dirs.ts";

const REPO = join(import.meta.dir, "../../..");
const COMMITTED = join(REPO, "src/proto");
const scratch = tempDir("prexor-gen-proto-");

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const full = join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

describe("src/proto", () => {
  test("is what `bun run gen:proto` produces from the current .proto files", async () => {
    // Run the real script, as a developer would, into a scratch directory.
    const child = Bun.spawn([process.execPath, "run", "build/gen-proto.ts", "--out", scratch], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => child.kill(), 30_000);
    const exitCode = await child.exited;
    clearTimeout(timer);
    expect(exitCode, await new Response(child.stderr).text()).toBe(0);

    const fresh = listFiles(scratch);
    const stale = "src/proto is out of date: run `bun run gen:proto` and commit the result";
    expect(listFiles(COMMITTED), stale).toEqual(fresh);
    for (const file of fresh) {
      const committed = readFileSync(join(COMMITTED, file), "utf8");
      const regenerated = readFileSync(join(scratch, file), "utf8");
      expect(committed === regenerated, `${stale} (${file} differs)`).toBe(true);
    }
  });

  test("every generated file carries the do-not-edit header", () => {
    for (const file of listFiles(COMMITTED)) {
      expect(readFileSync(join(COMMITTED, file), "utf8").startsWith(GENERATED_HEADER)).toBe(true);
    }
  });
});
