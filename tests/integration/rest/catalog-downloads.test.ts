/**
 * The catalog's PaperMC fallback against a real HTTP server on 127.0.0.1 answering in the downloads
 * API's v3 and v2 shapes: the best accepted channel and newest build is picked, its published SHA-256
 * and build number land in one catalog entry (a second lookup never asks again, two concurrent ones
 * ask once), a missing version or a build without a checksum is permanent, an unreachable API or a
 * 5xx is not.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CatalogResolver } from "../../../src/controller/catalog/catalog-resolver.ts";
import { CatalogService } from "../../../src/controller/catalog/catalog-service.ts";
import {
  DownloadsApiError,
  type DownloadsConfig,
  fetchLatestBuild,
  pickBuild,
} from "../../../src/controller/catalog/papermc-downloads.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";
import { freePort } from "../../support/ports.ts";

const sha = (c: string) => c.repeat(64);
const dir = tempDir("prexor-catalog-dl-");
const requests: Array<{ path: string; userAgent: string | null }> = [];
let failNext = 0;

const v3Builds = [
  // newest first, as the service answers
  {
    id: 240,
    channel: "BETA",
    downloads: {
      "server:default": { name: "paper-240.jar", checksums: { sha256: sha("e") }, size: 1, url: "" },
    },
  },
  {
    id: 232,
    channel: "STABLE",
    downloads: {
      "server:default": { name: "paper-1.21.4-232.jar", checksums: { sha256: sha("a") }, size: 1, url: "" },
    },
  },
  {
    id: 231,
    channel: "STABLE",
    downloads: {
      "server:default": { name: "paper-1.21.4-231.jar", checksums: { sha256: sha("b") }, size: 1, url: "" },
    },
  },
];

const server: Bun.Server<undefined> = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req): Response {
    const url = new URL(req.url);
    requests.push({ path: url.pathname, userAgent: req.headers.get("user-agent") });
    if (failNext > 0) {
      failNext--;
      return new Response("busy", { status: 503 });
    }
    const base: string = `http://127.0.0.1:${server.port}`;
    if (url.pathname === "/v3/projects/paper/versions/1.21.4/builds") {
      return Response.json(
        v3Builds.map((b) => ({
          ...b,
          downloads: {
            "server:default": {
              ...b.downloads["server:default"],
              url: `${base}/data/${b.downloads["server:default"].name}`,
            },
          },
        })),
      );
    }
    if (url.pathname === "/v3/projects/paper/versions/portal/builds") {
      return new Response("<html>sign in to the Wi-Fi</html>", { headers: { "content-type": "text/html" } });
    }
    if (url.pathname === "/v3/projects/velocity/versions/3.4.0/builds") {
      return Response.json([
        {
          id: 500,
          channel: "STABLE",
          downloads: {
            "server:default": { name: "v.jar", checksums: { sha256: sha("c") }, url: `${base}/v.jar` },
          },
        },
        {
          id: 498,
          channel: "RECOMMENDED",
          downloads: {
            "server:default": { name: "v-498.jar", checksums: { sha256: sha("d") }, url: `${base}/v498.jar` },
          },
        },
      ]);
    }
    if (url.pathname === "/v3/projects/folia/versions/1.21.4/builds") {
      return Response.json([
        {
          id: 9,
          channel: "STABLE",
          downloads: { "server:default": { name: "f.jar", url: `${base}/f.jar` } },
        },
      ]);
    }
    if (url.pathname === "/v2/projects/waterfall/versions/1.21/builds") {
      return Response.json({
        project_id: "waterfall",
        version: "1.21",
        builds: [
          {
            build: 10,
            channel: "default",
            downloads: { application: { name: "waterfall-1.21-10.jar", sha256: sha("1") } },
          },
          {
            build: 11,
            channel: "experimental",
            downloads: { application: { name: "waterfall-1.21-11.jar", sha256: sha("2") } },
          },
          {
            build: 12,
            channel: "default",
            downloads: { application: { name: "waterfall-1.21-12.jar", sha256: sha("3") } },
          },
        ],
      });
    }
    return Response.json({ ok: false, message: "Version not found." }, { status: 404 });
  },
});

const config = (over: Partial<DownloadsConfig> = {}): DownloadsConfig => ({
  enabled: true,
  api: "v3",
  baseUrl: `http://127.0.0.1:${server.port}`,
  userAgent: "prexor-test/1 (test@example.invalid)",
  timeoutMs: 2000,
  channels: ["RECOMMENDED", "STABLE"],
  ...over,
});

afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe("PaperMC downloads API", () => {
  test("v3: the newest STABLE build with its published checksum and embedded URL", async () => {
    const build = await fetchLatestBuild(config(), "PAPER", "1.21.4", { userAgent: "prexor-test/1" });
    expect(build).toEqual({
      build: 232,
      channel: "STABLE",
      sha256: sha("a"),
      url: `http://127.0.0.1:${server.port}/data/paper-1.21.4-232.jar`,
      fileName: "paper-1.21.4-232.jar",
    });
    expect(requests.at(-1)).toEqual({
      path: "/v3/projects/paper/versions/1.21.4/builds",
      userAgent: "prexor-test/1",
    });
  });

  test("v3: a RECOMMENDED build wins over a newer STABLE one; BETA only when accepted", async () => {
    expect((await fetchLatestBuild(config(), "VELOCITY", "3.4.0", { userAgent: "t" })).build).toBe(498);
    const beta = await fetchLatestBuild(config({ channels: ["BETA", "STABLE"] }), "PAPER", "1.21.4", {
      userAgent: "t",
    });
    expect(beta).toMatchObject({ build: 240, sha256: sha("e") });
  });

  test("v2: default channel maps to STABLE; the download URL is built from the build and name", async () => {
    const build = await fetchLatestBuild(config({ api: "v2" }), "WATERFALL", "1.21", { userAgent: "t" });
    expect(build).toEqual({
      build: 12,
      channel: "STABLE",
      sha256: sha("3"),
      url: `http://127.0.0.1:${server.port}/v2/projects/waterfall/versions/1.21/builds/12/downloads/waterfall-1.21-12.jar`,
      fileName: "waterfall-1.21-12.jar",
    });
  });

  test("permanent: an unknown version, a build without a checksum, a platform PaperMC does not publish", async () => {
    const failure = async (platform: string, version: string) =>
      fetchLatestBuild(config(), platform, version, { userAgent: "t" }).then(
        () => {
          throw new Error("resolved");
        },
        (err: unknown) => err as DownloadsApiError,
      );
    const missing = await failure("PAPER", "9.9.9");
    expect(missing).toBeInstanceOf(DownloadsApiError);
    expect(missing.permanent).toBe(true);
    expect(missing.message).toContain("Version not found.");
    const unchecked = await failure("FOLIA", "1.21.4");
    expect(unchecked.permanent).toBe(true);
    expect(unchecked.message).toContain("no RECOMMENDED/STABLE build");
    expect((await failure("PURPUR", "1.21.4")).permanent).toBe(true);
  });

  test("transient: a 5xx answer, an HTML page instead of JSON, and an unreachable API", async () => {
    const portal = await fetchLatestBuild(config(), "PAPER", "portal", { userAgent: "t" }).catch((e) => e);
    expect(portal).toBeInstanceOf(DownloadsApiError);
    expect(portal.permanent).toBe(false);
    expect(portal.message).toContain("not JSON");
    failNext = 1;
    const busy = await fetchLatestBuild(config(), "PAPER", "1.21.4", { userAgent: "t" }).catch((e) => e);
    expect(busy).toBeInstanceOf(DownloadsApiError);
    expect(busy.permanent).toBe(false);
    const closed = await freePort();
    const gone = await fetchLatestBuild(
      config({ baseUrl: `http://127.0.0.1:${closed}` }),
      "PAPER",
      "1.21.4",
      {
        userAgent: "t",
      },
    ).catch((e) => e);
    expect(gone).toBeInstanceOf(DownloadsApiError);
    expect(gone.permanent).toBe(false);
    expect(gone.message).toContain("unreachable");
  });

  test("pickBuild refuses a v3 URL that is not http(s)", () => {
    const body = [
      {
        id: 1,
        channel: "STABLE",
        downloads: {
          "server:default": { name: "x.jar", checksums: { sha256: sha("f") }, url: "file:///etc/passwd" },
        },
      },
    ];
    expect(() => pickBuild(config(), "paper", "1", body)).toThrow(DownloadsApiError);
  });
});

describe("catalog resolver", () => {
  const store = SqliteStore.open({ file: join(dir, "prexor.db") });
  const coord = new MemoryCoordination();
  const catalog = new CatalogService(store, join(dir, "artifacts"), { coord, store, holder: "c1" });

  test("a missing PAPER version is resolved once, stored with build and hash, then served from the catalog", async () => {
    const resolver = new CatalogResolver(catalog, config(), silentLogger());
    const before = requests.length;
    const [a, b] = await Promise.all([
      resolver.resolve("PAPER", "1.21.4"),
      resolver.resolve("paper", "1.21.4"),
    ]);
    expect(a).toMatchObject({
      platform: "PAPER",
      version: "1.21.4",
      build: 232,
      sha256: sha("a"),
      origin: "papermc",
      ready: true,
    });
    expect(b).toEqual(a);
    expect(requests.length - before).toBe(1);
    // Another controller (a fresh resolver over the same store) reads the cached answer.
    const other = new CatalogResolver(catalog, config(), silentLogger());
    expect(await other.resolve("PAPER", "1.21.4")).toEqual(a);
    expect(requests.length - before).toBe(1);
    expect((await catalog.list("PAPER")).length).toBe(1);
  });

  test("two controllers resolving the same version at once store one entry and agree on it", async () => {
    // Separate resolvers (no shared in-flight map), one store: the second insert loses and re-reads.
    const [a, b] = await Promise.all([
      new CatalogResolver(catalog, config(), silentLogger()).resolve("VELOCITY", "3.4.0"),
      new CatalogResolver(catalog, config(), silentLogger()).resolve("VELOCITY", "3.4.0"),
    ]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ build: 498, sha256: sha("d"), origin: "papermc" });
    expect((await catalog.list("VELOCITY")).length).toBe(1);
  });

  test("disabled, a platform it does not publish, or a recommended lookup: the catalog's NOT_FOUND stands", async () => {
    const off = new CatalogResolver(catalog, config({ enabled: false }), silentLogger());
    await expect(off.resolve("VELOCITY", "3.5.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const on = new CatalogResolver(catalog, config(), silentLogger());
    await expect(on.resolve("PURPUR", "1.21.4")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(on.resolve("VELOCITY", "recommended")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  test("an imported file makes its own entry from the bytes' hash; a different file for it is refused naming both", async () => {
    const jar = new TextEncoder().encode("not really a jar");
    const digest = new Bun.CryptoHasher("sha256").update(jar).digest("hex");
    const entry = await catalog.storeArtifact("paper", "1.20.6", jar, { create: true });
    expect(entry).toMatchObject({
      platform: "PAPER",
      version: "1.20.6",
      sha256: digest,
      origin: "import",
      ready: true,
    });
    expect(await Bun.file(join(dir, "artifacts", digest)).text()).toBe("not really a jar");
    const other = new TextEncoder().encode("other bytes");
    const otherDigest = new Bun.CryptoHasher("sha256").update(other).digest("hex");
    const refused = await catalog.storeArtifact("PAPER", "1.20.6", other, { create: true }).catch((e) => e);
    expect(refused.message).toContain(digest);
    expect(refused.message).toContain(otherDigest);
    // Without create, a version with no entry is still NOT_FOUND.
    await expect(catalog.storeArtifact("PAPER", "1.19", jar)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
