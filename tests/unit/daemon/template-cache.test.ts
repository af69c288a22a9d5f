import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TemplateFile } from "../../../src/core/templates/index.ts";
import { hashTemplateFiles } from "../../../src/core/templates/index.ts";
import {
  LayerIntegrityError,
  LayerUnavailableError,
  materialize,
  TemplateCache,
} from "../../../src/daemon/materialize/index.ts";
import { tempDir as makeTempDir } from "../../support/temp-dirs.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = makeTempDir("prexor-tpl-");
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const text = (value: string) => new TextEncoder().encode(value);
function makeLayer(name: string, files: Record<string, string>) {
  const list: TemplateFile[] = Object.entries(files).map(([path, content]) => ({
    path,
    bytes: text(content),
  }));
  return { ref: { name, hash: hashTemplateFiles(list) }, files: list };
}

const base = makeLayer("base", {
  "server.properties": "server-port=%PORT%\nmotd=base\nview-distance=8\n",
  "eula.txt": "eula=true\n",
  "plugins/Cloud.jar": "jar-bytes",
});
const group = makeLayer("lobby", {
  "server.properties": "motd=%GROUP% on %PORT%\n",
  "config/paper.yml": "settings:\n  a: 1\n",
});

describe("TemplateCache", () => {
  test("stores a fetched layer under its hash, once, and reads it back verified", async () => {
    const cache = new TemplateCache(tempDir());
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return base.files;
    };
    const [first, second] = await Promise.all([
      cache.ensureLayer(base.ref, fetch),
      cache.ensureLayer(base.ref, fetch),
    ]);
    expect([first, second]).toEqual([true, true]);
    expect(await cache.ensureLayer(base.ref, fetch)).toBe(false);
    expect(fetches).toBe(1);
    expect(readdirSync(cache.directory)).toEqual([base.ref.hash]);
    const files = await cache.readLayer(base.ref);
    expect(hashTemplateFiles(files)).toBe(base.ref.hash);
    expect((await cache.list()).map((l) => l.hash)).toEqual([base.ref.hash]);
  });

  test("a fetch with the wrong content never becomes visible", async () => {
    const cache = new TemplateCache(tempDir());
    const error = await cache.ensureLayer(base.ref, async () => group.files).catch((e) => e);
    expect(error).toBeInstanceOf(LayerIntegrityError);
    expect(error.message).toContain(`fetched files hash to ${group.ref.hash}, plan expects ${base.ref.hash}`);
    expect(await cache.has(base.ref.hash)).toBe(false);
    expect(await cache.list()).toEqual([]);
  });

  test("a failed fetch is reported as unavailable", async () => {
    const cache = new TemplateCache(tempDir());
    const error = await cache
      .ensureLayer(base.ref, async () => {
        throw new Error("controller unreachable");
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LayerUnavailableError);
    expect(error.message).toContain("controller unreachable");
  });

  test("an edited, added or symlinked cache file is detected on read and the layer moved aside", async () => {
    for (const tamper of [
      (dir: string) => writeFileSync(join(dir, "eula.txt"), "eula=false\n"),
      (dir: string) => writeFileSync(join(dir, "extra.txt"), "x"),
      (dir: string) => symlinkSync("/etc/passwd", join(dir, "passwd")),
    ]) {
      const cache = new TemplateCache(tempDir());
      await cache.ensureLayer(base.ref, async () => base.files);
      tamper(cache.layerPath(base.ref.hash));
      const error = await cache.readLayer(base.ref).catch((e) => e);
      expect(error).toBeInstanceOf(LayerIntegrityError);
      expect(error.message).toContain(`template layer base: cached files`);
      expect(error.message).toContain(base.ref.hash);
      expect(await cache.has(base.ref.hash)).toBe(false);
      expect(readdirSync(join(cache.directory, ".quarantine"))).toHaveLength(1);
    }
  });

  test("refuses hashes that are not SHA-256 hex (they name directories)", async () => {
    const cache = new TemplateCache(tempDir());
    await expect(cache.ensureLayer({ name: "x", hash: "../../etc" }, async () => [])).rejects.toThrow(
      /invalid/,
    );
    expect(await cache.readLayer({ name: "empty", hash: "" })).toEqual([]);
  });
});

describe("materialize", () => {
  async function cacheWith(...layers: (typeof base)[]): Promise<TemplateCache> {
    const cache = new TemplateCache(tempDir());
    for (const layer of layers) await cache.ensureLayer(layer.ref, async () => layer.files);
    return cache;
  }

  test("composes the layers with substitution and merge into a fresh instance directory", async () => {
    const cache = await cacheWith(base, group);
    const root = tempDir();
    const instanceDir = join(root, "lobby-1");
    const jar = join(root, "runtime.jar");
    writeFileSync(jar, "runtime");
    const result = await materialize(cache, {
      layers: [base.ref, group.ref],
      instanceDir,
      variables: { PORT: "30001", GROUP: "lobby" },
      staticInstance: false,
      protectedPaths: [],
      runtime: { source: jar, fileName: "server.jar" },
    });
    expect(readFileSync(join(instanceDir, "server.properties"), "utf8")).toBe(
      "server-port=30001\nmotd=lobby on 30001\nview-distance=8\n",
    );
    expect(readFileSync(join(instanceDir, "plugins/Cloud.jar"), "utf8")).toBe("jar-bytes");
    expect(readFileSync(join(instanceDir, "server.jar"), "utf8")).toBe("runtime");
    expect(result.files).toBe(5);
    // Only the instance directory is left behind: no staging directories.
    expect(readdirSync(root).sort()).toEqual(["lobby-1", "runtime.jar"]);
  });

  test("a dynamic instance's old directory is replaced whole", async () => {
    const cache = await cacheWith(base);
    const instanceDir = join(tempDir(), "lobby-1");
    mkdirSync(instanceDir);
    writeFileSync(join(instanceDir, "stale.log"), "old run");
    await materialize(cache, {
      layers: [base.ref],
      instanceDir,
      variables: { PORT: "1" },
      staticInstance: false,
      protectedPaths: [],
    });
    expect(readdirSync(instanceDir).sort()).toEqual(["eula.txt", "plugins", "server.properties"]);
  });

  test("a static instance keeps its files and operator-owned protected paths", async () => {
    const cache = await cacheWith(base);
    const instanceDir = join(tempDir(), "survival");
    mkdirSync(join(instanceDir, "world"), { recursive: true });
    writeFileSync(join(instanceDir, "world/level.dat"), "world");
    writeFileSync(join(instanceDir, "eula.txt"), "operator edited\n");
    const result = await materialize(cache, {
      layers: [base.ref],
      instanceDir,
      variables: { PORT: "2" },
      staticInstance: true,
      protectedPaths: ["eula.txt"],
    });
    expect(result.skippedProtected).toEqual(["eula.txt"]);
    expect(readFileSync(join(instanceDir, "eula.txt"), "utf8")).toBe("operator edited\n");
    expect(readFileSync(join(instanceDir, "world/level.dat"), "utf8")).toBe("world");
    expect(readFileSync(join(instanceDir, "server.properties"), "utf8")).toContain("server-port=2");
  });

  test("a static instance never writes through a symlinked directory", async () => {
    const cache = await cacheWith(base);
    const root = tempDir();
    const outside = join(root, "outside");
    mkdirSync(outside);
    const instanceDir = join(root, "survival");
    mkdirSync(instanceDir);
    symlinkSync(outside, join(instanceDir, "plugins"));
    await expect(
      materialize(cache, {
        layers: [base.ref],
        instanceDir,
        variables: {},
        staticInstance: true,
        protectedPaths: [],
      }),
    ).rejects.toThrow(/not a plain directory/);
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a tampered layer fails before anything is written", async () => {
    const cache = await cacheWith(base, group);
    writeFileSync(join(cache.layerPath(group.ref.hash), "server.properties"), "motd=evil\n");
    const instanceDir = join(tempDir(), "lobby-1");
    const error = await materialize(cache, {
      layers: [base.ref, group.ref],
      instanceDir,
      variables: {},
      staticInstance: false,
      protectedPaths: [],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(LayerIntegrityError);
    expect(error).toMatchObject({ layer: "lobby", expectedHash: group.ref.hash });
    expect(error.actualHash).not.toBe(group.ref.hash);
    expect(readdirSync(join(instanceDir, ".."))).toEqual([]);
  });
});
