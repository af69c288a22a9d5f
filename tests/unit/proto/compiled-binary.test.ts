import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../support/temp-dirs.ts";

const REPO = join(import.meta.dir, "../../..");
const scratch = tempDir("prexor-proto-compile-");

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(
  argv: string[],
  timeoutMs: number,
  cwd = REPO,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill(), timeoutMs);
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("inside a `bun build --compile` executable", () => {
  test("generated codecs and the PKI work without the source tree", async () => {
    const binary = join(scratch, "proto-pki-smoke");
    const build = await run(
      [
        process.execPath,
        "build",
        "--compile",
        "tests/unit/proto/fixtures/compiled-entry.ts",
        "--outfile",
        binary,
      ],
      60_000,
    );
    expect(build.code, build.stderr).toBe(0);

    // Run from the scratch directory so nothing under the repo could be read by accident.
    const smoke = await run([binary], 30_000, scratch);
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(JSON.parse(smoke.stdout)).toEqual({
      epoch: 3,
      frame: "helloAck",
      sessionId: "s-1",
      issuedTo: "node-7",
      serialLength: 32,
    });
  }, 90_000);
});
