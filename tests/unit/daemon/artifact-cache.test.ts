import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  ArtifactCache,
  ArtifactDigestError,
  chunkedArtifactSource,
  httpArtifactSource,
} from "../../../src/daemon/artifacts/index.ts";
import { tempDir } from "../../support/temp-dirs.ts";

const dirs: string[] = [];
function cache(): ArtifactCache {
  const dir = tempDir("prexor-art-");
  dirs.push(dir);
  return new ArtifactCache(dir);
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const jar = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
const jarSha = createHash("sha256").update(jar).digest("hex");

let server: ReturnType<typeof Bun.serve>;
let requests = 0;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      requests++;
      const path = new URL(request.url).pathname;
      if (path === "/paper.jar") return new Response(jar);
      if (path === "/tampered.jar") return new Response(jar.slice(1));
      return new Response("missing", { status: 404 });
    },
  });
});
afterAll(() => server.stop(true));

describe("ArtifactCache", () => {
  test("streams controller-served chunks into <cache>/artifacts/<sha256>", async () => {
    const artifacts = cache();
    const chunks = [jar.slice(0, 1000), jar.slice(1000, 200_000), jar.slice(200_000)];
    const path = await artifacts.ensure(jarSha, chunkedArtifactSource(chunks));
    expect(path).toBe(join(artifacts.directory, jarSha));
    expect(new Uint8Array(readFileSync(path))).toEqual(jar);
  });

  test("downloads over http once and serves later calls from the cache", async () => {
    const artifacts = cache();
    const url = `http://127.0.0.1:${server.port}/paper.jar`;
    const before = requests;
    await Promise.all([
      artifacts.ensure(jarSha, httpArtifactSource(url)),
      artifacts.ensure(jarSha.toUpperCase(), httpArtifactSource(url)),
    ]);
    await artifacts.ensure(jarSha, httpArtifactSource(url));
    expect(requests - before).toBe(1);
    expect(await artifacts.has(jarSha)).toBe(true);
  });

  test("refuses bytes that do not match the digest and keeps nothing", async () => {
    const artifacts = cache();
    const error = await artifacts
      .ensure(jarSha, httpArtifactSource(`http://127.0.0.1:${server.port}/tampered.jar`))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ArtifactDigestError);
    expect(error.message).toContain(`expected ${jarSha}`);
    expect(readdirSync(artifacts.directory)).toEqual([]);
  });

  test("an HTTP error is an error, not content", async () => {
    const artifacts = cache();
    await expect(
      artifacts.ensure(jarSha, httpArtifactSource(`http://127.0.0.1:${server.port}/nope.jar`)),
    ).rejects.toThrow(/HTTP 404/);
  });

  test("enforces a size limit while streaming", async () => {
    const artifacts = cache();
    await expect(artifacts.ensure(jarSha, chunkedArtifactSource([jar]), { maxBytes: 1000 })).rejects.toThrow(
      /exceeds 1000 bytes/,
    );
    expect(readdirSync(artifacts.directory)).toEqual([]);
  });

  test("refuses a malformed digest and non-http URLs", () => {
    expect(() => cache().pathFor("../etc/passwd")).toThrow(/invalid sha256/);
    expect(() => httpArtifactSource("file:///etc/passwd")).toThrow(/unsupported/);
  });
});

describe("staging left by a killed daemon", () => {
  test("is removed before this process stages its first download; finished artifacts stay", async () => {
    const dir = tempDir("prexor-art-");
    dirs.push(dir);
    const first = new ArtifactCache(dir);
    await first.ensure(jarSha, chunkedArtifactSource([jar]));
    // What a daemon killed half-way through a download leaves behind.
    await Bun.write(join(first.directory, ".tmp-left-by-a-dead-daemon"), "half a jar");
    const restarted = new ArtifactCache(dir);
    const other = new Uint8Array([1, 2, 3]);
    const otherSha = createHash("sha256").update(other).digest("hex");
    await restarted.ensure(otherSha, chunkedArtifactSource([other]));
    expect(readdirSync(restarted.directory).sort()).toEqual([jarSha, otherSha].sort());
  });
});
