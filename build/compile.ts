/**
 * Compiles the single executable: `bun run build` → dist/prexor (+ dist/prexorctl symlink).
 * `--target bun-linux-arm64` (repeatable) cross-compiles; each target lands in dist/<target>/.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const targets = process.argv.flatMap((a, i, all) => (a === "--target" && all[i + 1] ? [all[i + 1]!] : []));
const commit =
  spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim() ||
  "unknown";
// The commit time, not now: a rebuild of the same commit yields the same bytes.
const buildDate =
  process.env.SOURCE_DATE_EPOCH !== undefined
    ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString()
    : spawnSync("git", ["log", "-1", "--format=%cI", "HEAD"], {
        cwd: root,
        encoding: "utf8",
      }).stdout.trim() || "unknown";

async function compile(target: string | undefined): Promise<void> {
  const outDir = target ? join(root, "dist", target) : join(root, "dist");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, "prexor");
  // The chunks' source maps of an earlier build (their names are content hashes, so they pile up).
  for (const name of readdirSync(outDir)) if (/^chunk-.*\.js\.map$/.test(name)) rmSync(join(outDir, name));
  const result = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    compile: target ? { target: target as Bun.Build.CompileTarget, outfile } : { outfile },
    minify: true,
    bytecode: true,
    // Each role's lazy import() becomes its own chunk inside the executable, loaded when imported.
    // As one module the whole bundle's bytecode loaded before main's first line: ~15 ms of every
    // start, `prexor version` included, and the most of a cold start's time to its first answer.
    splitting: true,
    format: "esm",
    sourcemap: "linked",
    define: { PREXOR_GIT_COMMIT: JSON.stringify(commit), PREXOR_BUILD_DATE: JSON.stringify(buildDate) },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  const link = join(outDir, "prexorctl");
  rmSync(link, { force: true });
  symlinkSync("prexor", link);
  console.log(`built ${outfile} (+ prexorctl) for ${target ?? "this host"} at ${commit}`);
}

for (const target of targets.length > 0 ? targets : [undefined]) await compile(target);
