import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const SOURCE = join(import.meta.dir, "java", "Workload.java");

/** Whether this host can build and run the Java workload (a JDK with `javac` and `jar`). */
export function javaAvailable(): boolean {
  return ["javac", "jar", "java"].every((tool) => Bun.which(tool) !== null);
}

/**
 * Compiles `java/Workload.java` into a runnable jar, once per source version: the jar is cached
 * under `${XDG_CACHE_HOME:-~/.cache}/prexorcloud-test/` by the hash of the source, and written
 * under a temporary name first so concurrent test runs never see half a jar.
 */
export function ensureWorkloadJar(): string {
  const source = readFileSync(SOURCE);
  const digest = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "prexorcloud-test");
  const jarPath = join(cacheRoot, `workload-${digest}.jar`);
  if (existsSync(jarPath)) return jarPath;

  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, ".build-"));
  try {
    const classes = join(work, "classes");
    run("javac", ["--release", "17", "-d", classes, SOURCE]);
    const built = join(work, "workload.jar");
    run("jar", ["--create", "--file", built, "--main-class", "Workload", "-C", classes, "."]);
    renameSync(built, jarPath);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return jarPath;
}

function run(tool: string, args: string[]): void {
  const result = spawnSync(tool, args, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.error}`);
  }
}
