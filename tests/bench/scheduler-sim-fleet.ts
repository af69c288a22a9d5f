/**
 * Grandchild of `bun run bench:scheduler`: 50 simulated daemons (real mTLS gRPC clients) for the
 * controller measured in scheduler-controller-rss.ts, in a process of their own so their streams and
 * buffers do not count against the controller's RSS. Reads the node credentials from the file named
 * in argv, connects every node to the address in argv, prints "ready", and runs until stdin closes.
 */
import { readFileSync } from "node:fs";
import { type NodeCredentials, SimulatedDaemon } from "../support/simulated-daemon.ts";

const [file, address, memory] = process.argv.slice(2);
if (file === undefined || address === undefined)
  throw new Error("usage: scheduler-sim-fleet.ts FILE ADDRESS");
const credentials = JSON.parse(readFileSync(file, "utf8")) as NodeCredentials[];
const daemons = credentials.map((c) => new SimulatedDaemon(c, { memoryMb: Number(memory ?? 60_000) }));
await Promise.all(daemons.map((d) => d.connect(address)));
console.log("ready");
for await (const _ of Bun.stdin.stream()) {
  // the parent never writes; the loop ends when it closes stdin or exits
}
await Promise.allSettled(daemons.map((d) => d.disconnect()));
process.exit(0);
