import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { runBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { tempDir } from "../support/temp-dirs.ts";

/** True when nothing holds `port` any more: the process let its REST port go. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

async function upArgs(dir: string, port: number): Promise<string[]> {
  return ["up", "--dir", dir, "--port", String(port), "--grpc-port", String(await freePort())];
}

// The REST port is bound from the defaults when no controller.yml and no listener variable can
// change it (roles/rest-early.ts); the whole config is checked right after. Fail-closed either way.
describe("a bad config stops start-up with its key", () => {
  test("prexor up without controller.yml: a bad variable exits 1 naming the key, the port released", async () => {
    const dir = tempDir("prexor-e2e-badenv-");
    const port = await freePort();
    const result = runBinary(await upArgs(dir, port), {
      env: { PREXOR_SCHEDULER__EVALUATION_INTERVAL_SECONDS: "soon" },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("scheduler.evaluationIntervalSeconds");
    expect(result.stderr).toContain("PREXOR_SCHEDULER__EVALUATION_INTERVAL_SECONDS");
    expect(await portFree(port)).toBe(true);
  });

  test("prexor controller with a listener variable: the config loads first, a bad key exits 1 naming it", async () => {
    const root = tempDir("prexor-e2e-badenv-ctl-");
    const result = runBinary(["controller", "--root", root], {
      env: {
        // never the default 8080 (and 0.0.0.0) on a shared host; it also makes the config load first
        PREXOR_HTTP__HOST: "127.0.0.1",
        PREXOR_HTTP__PORT: String(await freePort()),
        PREXOR_HEARTBEAT__MISSED_THRESHOLD: "0",
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("heartbeat.missedThreshold");
  });

  test("prexor up with a controller.yml that has an unknown key exits 1 naming it", async () => {
    const dir = tempDir("prexor-e2e-badfile-");
    mkdirSync(join(dir, "config"));
    writeFileSync(join(dir, "config/controller.yml"), "scheduler:\n  evaluationIntervalSecs: 5\n");
    const port = await freePort();
    const result = runBinary(await upArgs(dir, port));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("scheduler.evaluationIntervalSecs");
    expect(await portFree(port)).toBe(true);
  });
});
