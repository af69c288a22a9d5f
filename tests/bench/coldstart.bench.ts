/**
 * bun run bench:coldstart — the compiled binary's time from exec to the first 200 on
 * /api/v1/system/health, for `prexor up` on a fresh directory (first start: creates the store and
 * the admin) and on an existing one (restart), as a ratio to a floor measured in the same run: a
 * bare `Bun.serve` compiled the same way (`bun build --compile --bytecode --minify`) answering its
 * first 200. 7 runs each, interleaved so machine load hits all three alike; median and worst.
 * Goal: restart ≤ 5x the floor.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { removeTempDirs, tempDir } from "../support/temp-dirs.ts";
import { fmtMs, percentile } from "./stats.ts";

const bin = ensureBinary();
const RUNS = 7;
const GOAL = 5;

/** The floor: the least a compiled Bun HTTP server does before its first answer. */
async function compileFloor(): Promise<string> {
  const dir = tempDir("prexor-cold-floor-");
  const entry = join(dir, "floor.ts");
  writeFileSync(
    entry,
    'Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: () => new Response("ok") });\n',
  );
  const outfile = join(dir, "floor");
  const built = await Bun.build({ entrypoints: [entry], compile: { outfile }, minify: true, bytecode: true });
  if (!built.success) throw new Error(`floor did not compile: ${built.logs.join("\n")}`);
  return outfile;
}

/** ms from exec to the first 200 on `path`; polls with a 20 s deadline. */
async function firstAnswer(argv: string[], port: number, path: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
  const deadline = t0 + 20_000;
  let elapsed = Number.NaN;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.arrayBuffer();
      if (res.status === 200) {
        elapsed = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await Bun.sleep(1);
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.on("exit", r));
  if (Number.isNaN(elapsed)) throw new Error(`${argv[0]} did not answer within 20 s`);
  return elapsed;
}

async function up(dir: string): Promise<number> {
  const port = await freePort();
  const grpc = await freePort();
  return firstAnswer(
    [bin, "up", "--dir", dir, "--port", String(port), "--grpc-port", String(grpc)],
    port,
    "/api/v1/system/health",
  );
}

const floorBin = await compileFloor();
const floor: number[] = [];
const fresh: number[] = [];
const restart: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const port = await freePort();
  floor.push(await firstAnswer([floorBin, String(port)], port, "/"));
  const dir = tempDir("prexor-cold-");
  fresh.push(await up(dir));
  restart.push(await up(dir));
}
removeTempDirs();
const base = percentile(floor, 50);
const line = (label: string, xs: number[]) =>
  `${label} median ${fmtMs(percentile(xs, 50))} (${(percentile(xs, 50) / base).toFixed(1)}x floor), worst ${fmtMs(Math.max(...xs))}`;
console.log(`compiled binary ${bin}, ${RUNS} runs each, interleaved`);
console.log(line("floor (bare compiled Bun.serve):", floor));
console.log(line("first start (new store + admin):", fresh));
console.log(line("restart (existing store):       ", restart));
const ratio = percentile(restart, 50) / base;
console.log(`restart / floor = ${ratio.toFixed(1)}x (goal ≤ ${GOAL}x): ${ratio <= GOAL ? "met" : "not met"}`);
process.exit(0);
