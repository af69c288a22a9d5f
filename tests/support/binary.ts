import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Glob } from "bun";

export const repoRoot = resolve(import.meta.dir, "../..");
export const binaryPath = resolve(repoRoot, "dist/prexor");
export const ctlPath = resolve(repoRoot, "dist/prexorctl");

function newestSourceMtime(): number {
  let newest = 0;
  for (const file of new Glob("src/**/*.ts").scanSync({ cwd: repoRoot })) {
    newest = Math.max(newest, statSync(resolve(repoRoot, file)).mtimeMs);
  }
  return newest;
}

let built = false;
/** Compiles dist/prexor once per test run when it is missing or older than the sources. */
export function ensureBinary(): string {
  if (built) return binaryPath;
  if (!existsSync(binaryPath) || statSync(binaryPath).mtimeMs < newestSourceMtime()) {
    const result = spawnSync("bun", ["run", "build"], { cwd: repoRoot, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
  }
  built = true;
  return binaryPath;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Environment every spawned binary gets unless the caller overrides it. Tests never reach the
 * internet: a catalog miss must not make a controller ask PaperMC's downloads API, so it is off
 * (the environment wins over controller.yml; a test that wants it passes `..._ENABLED: "true"`).
 */
const TEST_ENV: Record<string, string> = { NO_COLOR: "1", PREXOR_CATALOG__DOWNLOADS__ENABLED: "false" };

/** Runs the binary to completion (bounded by a timeout); `input` is written to its stdin. */
export function runBinary(
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    bin?: string;
    timeoutMs?: number;
    input?: string;
  } = {},
): RunResult {
  const result = spawnSync(options.bin ?? ensureBinary(), args, {
    encoding: "utf8",
    cwd: options.cwd,
    env: { ...process.env, ...TEST_ENV, ...options.env },
    timeout: options.timeoutMs ?? 30_000,
    input: options.input,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** sends a signal and waits (bounded) for the exit code */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts the binary in the background; the caller waits on a condition, never on time. */
export function startBinary(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Running {
  const child = spawn(ensureBinary(), args, {
    cwd: options.cwd,
    env: { ...process.env, ...TEST_ENV, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((res) =>
    child.on("exit", (code) => {
      live.delete(child);
      res(code);
    }),
  );
  return {
    child,
    output: () => out,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
