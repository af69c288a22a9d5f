/**
 * bun run bench:coldstart — the compiled binary's time from exec to the first 200 on
 * /api/v1/system/health, for `prexor up` on a fresh directory (first start: creates the store and
 * the admin) and on an existing one (restart). 7 runs each; median and worst.
 */
import { spawn } from "node:child_process";
import { tempDir } from "../support/adapters.ts";
import { ensureBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { fmtMs, percentile } from "./stats.ts";

const bin = ensureBinary();
const RUNS = 7;

async function once(dir: string): Promise<number> {
  const port = await freePort();
  const grpc = await freePort();
  const t0 = performance.now();
  const child = spawn(bin, ["up", "--dir", dir, "--port", String(port), "--grpc-port", String(grpc)], {
    stdio: "ignore",
  });
  const deadline = t0 + 20_000;
  let elapsed = Number.NaN;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/system/health`);
      if (res.status === 200) {
        elapsed = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await Bun.sleep(2);
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.on("exit", r));
  if (Number.isNaN(elapsed)) throw new Error("controller did not answer within 20 s");
  return elapsed;
}

const fresh: number[] = [];
const restart: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = tempDir("prexor-cold-");
  fresh.push(await once(dir));
  restart.push(await once(dir));
}
console.log(`compiled binary ${bin}, ${RUNS} runs each (goal ≤ 300 ms)`);
console.log(
  `first start (new store + admin): median ${fmtMs(percentile(fresh, 50))}, worst ${fmtMs(Math.max(...fresh))}`,
);
console.log(
  `restart (existing store):        median ${fmtMs(percentile(restart, 50))}, worst ${fmtMs(Math.max(...restart))}`,
);
process.exit(0);
