import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/**
 * Real servers for the suites, started once per test process on ephemeral loopback ports and
 * killed when the process exits. PREXOR_TEST_REDIS_URI / PREXOR_TEST_MONGO_URI point the suites
 * at servers you run yourself (a real Valkey 8 / MongoDB 7) instead.
 */
export interface TestServer {
  uri: string;
}

export type Availability = { server: TestServer; skip?: undefined } | { server?: undefined; skip: string };

/**
 * Starts `cmd` under a small shell that holds a pipe from this process on its stdin and kills the
 * server once that pipe closes. bun test does not run `exit` handlers, so a server tied to one
 * would outlive every test run; a closed pipe happens however this process ends, even SIGKILL.
 */
export function spawnTied(cmd: string, args: string[], output: "ignore" | "pipe"): ChildProcess {
  const script = '"$@" </dev/null & server=$!; cat >/dev/null; kill -9 "$server" 2>/dev/null';
  return spawn("sh", ["-c", script, "sh", cmd, ...args], { stdio: ["pipe", output, output] });
}

/** Closing the pipe is what stops a tied server (see spawnTied). */
export function stopTied(child: ChildProcess): void {
  child.stdin?.end();
}

const inCi = process.env.CI === "true";
const repoRoot = resolve(import.meta.dir, "../..");
export const testCacheDir =
  process.env.PREXOR_TEST_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "prexorcloud-test");

function which(cmd: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function unavailable(what: string, variable: string, why: string): Availability {
  const message = `${what} unavailable (${why}); set ${variable} or install it (tests/run.sh does)`;
  if (inCi) throw new Error(`${message} — a missing server is a failure in CI`);
  console.warn(`skipping ${what} suites: ${message}`);
  return { skip: message };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      res(true);
    });
    socket.on("error", () => res(false));
  });
}

let redis: Promise<Availability> | undefined;
export function redisServer(): Promise<Availability> {
  redis ??= startRedis();
  return redis;
}

async function startRedis(): Promise<Availability> {
  if (process.env.PREXOR_TEST_REDIS_URI) return { server: { uri: process.env.PREXOR_TEST_REDIS_URI } };
  const bin = which("redis-server") ?? which("valkey-server");
  if (!bin) return unavailable("redis-server", "PREXOR_TEST_REDIS_URI", "redis-server not on PATH");
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawnTied(
      bin,
      [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ],
      "ignore",
    );
    try {
      await waitFor(() => child.exitCode === null && portOpen(port), {
        timeoutMs: 5000,
        what: "redis-server to listen",
      });
      return { server: { uri: `redis://127.0.0.1:${port}` } };
    } catch {
      stopTied(child);
    }
  }
  return unavailable("redis-server", "PREXOR_TEST_REDIS_URI", "it did not start");
}

let mongo: Promise<Availability> | undefined;
export function mongoServer(): Promise<Availability> {
  mongo ??= startMongo();
  return mongo;
}

/** Resolves mongo-java-server from Maven Central and compiles our launcher, once per machine. */
export function prepareMongoJavaServer(): { classpath: string } | { error: string } {
  const source = join(repoRoot, "tests/support/mongo-java-server");
  const dir = join(testCacheDir, "mongo-java-server-1.47.0");
  const lib = join(dir, "lib");
  const classes = join(dir, "classes");
  if (!existsSync(join(classes, "MongoTestServer.class"))) {
    if (!which("mvn") || !which("javac")) return { error: "java/javac/mvn not on PATH" };
    mkdirSync(dir, { recursive: true });
    const mvn = spawnSync(
      "mvn",
      ["-q", "-B", "-f", join(source, "pom.xml"), "dependency:copy-dependencies", `-DoutputDirectory=${lib}`],
      {
        encoding: "utf8",
      },
    );
    if (mvn.status !== 0) return { error: `mvn failed: ${mvn.stdout}${mvn.stderr}`.slice(0, 2000) };
    const javac = spawnSync(
      "javac",
      ["-d", classes, "-cp", `${lib}/*`, join(source, "MongoTestServer.java")],
      { encoding: "utf8" },
    );
    if (javac.status !== 0) return { error: `javac failed: ${javac.stderr}`.slice(0, 2000) };
  }
  if (!existsSync(lib) || readdirSync(lib).length === 0) return { error: `${lib} is empty` };
  return { classpath: `${lib}/*:${classes}` };
}

async function startMongo(): Promise<Availability> {
  if (process.env.PREXOR_TEST_MONGO_URI) return { server: { uri: process.env.PREXOR_TEST_MONGO_URI } };
  if (!which("java")) return unavailable("MongoDB-wire server", "PREXOR_TEST_MONGO_URI", "java not on PATH");
  const prepared = prepareMongoJavaServer();
  if ("error" in prepared) return unavailable("MongoDB-wire server", "PREXOR_TEST_MONGO_URI", prepared.error);
  const child = spawnTied("java", ["-Xmx512m", "-cp", prepared.classpath, "MongoTestServer", "0"], "pipe");
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  try {
    const port = await waitFor(() => output.match(/listening on (\d+)/)?.[1], {
      timeoutMs: 20_000,
      what: "mongo-java-server",
    });
    return { server: { uri: `mongodb://127.0.0.1:${port}` } };
  } catch {
    stopTied(child);
    return unavailable(
      "MongoDB-wire server",
      "PREXOR_TEST_MONGO_URI",
      `it did not start: ${output.slice(0, 500)}`,
    );
  }
}
