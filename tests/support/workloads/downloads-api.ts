import { createHash } from "node:crypto";

/** One build the fake service publishes: the bytes it serves and the checksum it claims. */
export interface FakeBuild {
  readonly project: string;
  readonly version: string;
  readonly build: number;
  readonly channel?: string;
  /** what GET on the download URL answers */
  readonly bytes: Uint8Array;
  /** the SHA-256 the builds list publishes; defaults to the bytes' own */
  readonly publishedSha256?: string;
}

export interface FakeDownloadsApi {
  readonly baseUrl: string;
  /** requests to the builds lists and to the jars, by path */
  readonly hits: Map<string, number>;
  stop(): void;
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * A local HTTP server on 127.0.0.1 in the shape of PaperMC's downloads API v3 (Fill):
 * `GET /v3/projects/{project}/versions/{version}/builds` answers the builds newest first with
 * `downloads["server:default"] = { name, checksums: { sha256 }, size, url }`, the jar is served at
 * that URL, and an unknown version answers 404 `{ ok: false, message }` as the real service does.
 */
export function startFakeDownloadsApi(builds: readonly FakeBuild[]): FakeDownloadsApi {
  const hits = new Map<string, number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req): Response {
      const path = new URL(req.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const base = `http://127.0.0.1:${server.port}`;
      const list = path.match(/^\/v3\/projects\/([^/]+)\/versions\/([^/]+)\/builds$/);
      if (list) {
        const found = builds
          .filter((b) => b.project === list[1] && b.version === decodeURIComponent(list[2]!))
          .sort((a, b) => b.build - a.build);
        if (found.length === 0)
          return Response.json({ ok: false, message: "Version not found." }, { status: 404 });
        return Response.json(
          found.map((b) => ({
            id: b.build,
            time: "2026-01-01T00:00:00Z",
            channel: b.channel ?? "STABLE",
            commits: [],
            downloads: {
              "server:default": {
                name: jarName(b),
                checksums: { sha256: b.publishedSha256 ?? sha256Hex(b.bytes) },
                size: b.bytes.length,
                url: `${base}/data/${jarName(b)}`,
              },
            },
          })),
        );
      }
      const jar = builds.find((b) => path === `/data/${jarName(b)}`);
      if (jar) return new Response(jar.bytes, { headers: { "content-type": "application/java-archive" } });
      return Response.json({ ok: false, message: "Not found." }, { status: 404 });
    },
  });
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    hits,
    stop: () => void server.stop(true),
  };
}

function jarName(b: FakeBuild): string {
  return `${b.project}-${b.version}-${b.build}.jar`;
}
