/**
 * The CI API fuzz run: Schemathesis (pinned in tests/fuzz/requirements.txt) over every operation
 * of the compiled `prexor up`'s OpenAPI document, as an admin, rate limits raised. Fails on any
 * 5xx, any response that does not match its declared schema, and any request slower than 2 s.
 * Bounded: a fixed seed and a few examples per operation (about 2–3 minutes on 2 cores).
 *
 *   bun tests/fuzz/fuzz-api.ts [path/to/st]
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, readInitialPassword, ready } from "../support/admin-api.ts";
import { startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const st = process.argv[2] ?? "st";
const EXAMPLES = process.env.FUZZ_EXAMPLES ?? "10";

const dir = tempDir("prexor-fuzz-");
mkdirSync(join(dir, "config"), { recursive: true });
writeFileSync(
  join(dir, "config/controller.yml"),
  [
    "security:",
    "  rateLimiting:",
    "    perIpPerMinute: 10000000",
    "    perUserPerMinute: 10000000",
    "    loginPerIpPerMinute: 10000000",
    "  lockout:",
    "    enabled: false",
    // No internet here: a catalog POST without a sha256 answers 422 instead of asking PaperMC.
    "catalog:",
    "  downloads:",
    "    enabled: false",
    "",
  ].join("\n"),
);
const port = await freePort();
const up = startBinary(["up", "--dir", dir, "--port", String(port), "--grpc-port", String(await freePort())]);
let code = 1;
try {
  await waitFor(() => ready(port), { timeoutMs: 30_000, what: "controller health" });
  const base = `http://127.0.0.1:${port}`;
  const api = new AdminApi(base);
  await api.login(await readInitialPassword(dir));
  const started = performance.now();
  const child = spawn(
    st,
    [
      "--config-file",
      join(import.meta.dir, "schemathesis.toml"),
      "run",
      `${base}/api/v1/openapi.json`,
      "--url",
      base,
      "-H",
      `Authorization: Bearer ${api.token}`,
      "--checks",
      "not_a_server_error,response_schema_conformance",
      "--max-response-time",
      "2",
      "--max-examples",
      EXAMPLES,
      "--seed",
      "12",
      "--workers",
      "2",
      "--phases",
      "examples,coverage,fuzzing",
      "--request-timeout",
      "10",
      // Logging out revokes the token the run uses; shutdown stops the node the run talks through.
      "--exclude-path",
      "/api/v1/auth/logout",
      "--exclude-path-regex",
      "/shutdown$",
      "--no-color",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // Every Schemathesis line goes out prefixed: its closing banner ("=== 3 warnings in 39s ===")
  // has the shape of a pytest summary, and a CI reader that takes it for the run's closing line
  // would count a run of no tests instead of reading our own `tests:` line.
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => console.log(`st | ${line}`));
  }
  code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  console.log(
    `fuzz: schemathesis exited ${code} after ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
} finally {
  await up.stop("SIGTERM");
}
process.exit(code);
