import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** A stream of an artifact's bytes (controller-served chunks or an HTTP body). */
export type ArtifactSource = () => Promise<AsyncIterable<Uint8Array>>;

/** The bytes did not hash to the digest the plan pinned; nothing was stored. */
export class ArtifactDigestError extends Error {
  readonly expectedSha256: string;
  readonly actualSha256: string;

  constructor(what: string, expected: string, actual: string) {
    super(`artifact ${what}: content hashes to sha256 ${actual}, expected ${expected}`);
    this.name = "ArtifactDigestError";
    this.expectedSha256 = expected;
    this.actualSha256 = actual;
  }
}

export interface EnsureArtifactOptions {
  /** For messages only (a jar name or URL). */
  readonly name?: string;
  /** Refuse a source that sends more than this (a wrong URL can serve anything). */
  readonly maxBytes?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Runtime artifacts (server and proxy jars, module jars) by content: `<root>/artifacts/<sha256>`.
 * Bytes are hashed while they stream to a temporary file and only renamed to their digest when it
 * matches, so the cache never holds a file under a name it does not deserve.
 */
export class ArtifactCache {
  readonly directory: string;
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Staging files a killed daemon left behind are removed once, before this process stages any. */
  private swept: Promise<void> | undefined;

  constructor(cacheRoot: string) {
    this.directory = join(cacheRoot, "artifacts");
  }

  pathFor(sha256: string): string {
    const digest = sha256.toLowerCase();
    if (!SHA256.test(digest)) throw new Error(`invalid sha256 ${JSON.stringify(sha256)}`);
    return join(this.directory, digest);
  }

  async has(sha256: string): Promise<boolean> {
    return Bun.file(this.pathFor(sha256)).exists();
  }

  /** The cached file's path, fetching from `source` when it is not cached yet. */
  ensure(sha256: string, source: ArtifactSource, options: EnsureArtifactOptions = {}): Promise<string> {
    let path: string;
    try {
      path = this.pathFor(sha256);
    } catch (err) {
      return Promise.reject(err);
    }
    const running = this.inFlight.get(path);
    if (running) return running;
    const work = this.fetchIfMissing(path, sha256.toLowerCase(), source, options).finally(() =>
      this.inFlight.delete(path),
    );
    this.inFlight.set(path, work);
    return work;
  }

  private async sweepStaging(): Promise<void> {
    // no cache directory yet: nothing staged to sweep
    const names = await readdir(this.directory).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.startsWith(".tmp-")).map((n) => rm(join(this.directory, n), { force: true })),
    );
  }

  private async fetchIfMissing(
    path: string,
    sha256: string,
    source: ArtifactSource,
    options: EnsureArtifactOptions,
  ): Promise<string> {
    if (await Bun.file(path).exists()) return path;
    await mkdir(this.directory, { recursive: true });
    this.swept ??= this.sweepStaging();
    await this.swept;
    const staging = join(this.directory, `.tmp-${randomUUID()}`);
    const file = await open(staging, "wx");
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of await source()) {
        size += chunk.byteLength;
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          throw new Error(`artifact ${options.name ?? sha256} exceeds ${options.maxBytes} bytes`);
        }
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.close();
      const actual = hash.digest("hex");
      if (actual !== sha256) throw new ArtifactDigestError(options.name ?? sha256, sha256, actual);
      await rename(staging, path);
      return path;
    } catch (err) {
      // already failing: the original error is rethrown below; a close error adds nothing
      await file.close().catch(() => undefined);
      await rm(staging, { force: true });
      throw err;
    }
  }
}
