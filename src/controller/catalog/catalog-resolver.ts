import { AppError, isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { VERSION } from "../../version.ts";
import { type CatalogEntry, type CatalogService, normalizePlatform } from "./catalog-service.ts";
import { DOWNLOADS_PROJECTS, type DownloadsConfig, fetchLatestBuild } from "./papermc-downloads.ts";

/**
 * Catalog lookups that fall back to PaperMC's downloads API for the platforms it publishes. The answer
 * is cached as an ordinary catalog entry (origin `papermc`, with its build number and published
 * SHA-256), so every controller and every later plan of the group pins the same build until an
 * operator removes the entry; a second lookup never asks the API again. Concurrent first lookups on
 * two controllers both ask, and the second insert loses to the first (one entry, re-read).
 */
export class CatalogResolver {
  private readonly inFlight = new Map<string, Promise<CatalogEntry>>();

  constructor(
    private readonly catalog: CatalogService,
    private readonly downloads: DownloadsConfig,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Whether `platform` versions can come from the downloads API on this controller. */
  fetchable(platform: string): boolean {
    return this.downloads.enabled && DOWNLOADS_PROJECTS[platform] !== undefined;
  }

  /** The catalog entry, resolved from the downloads API (and stored) when there is none yet. */
  async resolve(platformRaw: string, version: string): Promise<CatalogEntry> {
    try {
      return await this.catalog.resolve(platformRaw, version);
    } catch (err) {
      const platform = normalizePlatform(platformRaw);
      const concrete = version !== "" && version !== "recommended";
      if (!isAppError(err, "NOT_FOUND") || !concrete || !this.fetchable(platform)) throw err;
      return this.fetchInto(platform, version);
    }
  }

  /**
   * Asks the downloads API for the newest acceptable build and records it in the catalog. Throws
   * `DownloadsApiError` (permanent or not) when the API gives nothing usable.
   */
  fetchInto(
    platformRaw: string,
    version: string,
    options: { recommended?: boolean } = {},
  ): Promise<CatalogEntry> {
    const platform = normalizePlatform(platformRaw);
    if (!this.fetchable(platform)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        this.downloads.enabled
          ? `${platform} is not published by the PaperMC downloads API; give sha256 and url, or import the file`
          : "catalog.downloads.enabled is false; give sha256 and url, or import the file",
      );
    }
    const key = `${platform}:${version}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.fetchAndStore(platform, version, options).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  private async fetchAndStore(
    platform: string,
    version: string,
    options: { recommended?: boolean },
  ): Promise<CatalogEntry> {
    const userAgent = this.downloads.userAgent || `PrexorCloud/${VERSION}`;
    const build = await fetchLatestBuild(this.downloads, platform, version, {
      fetch: this.fetchImpl,
      userAgent,
    });
    this.log.info(
      { platform, version, build: build.build, channel: build.channel, sha256: build.sha256 },
      "resolved from the PaperMC downloads API",
    );
    try {
      return await this.catalog.add(platform, {
        version,
        sha256: build.sha256,
        url: build.url,
        build: build.build,
        origin: "papermc",
        ...(options.recommended ? { recommended: true } : {}),
      });
    } catch (err) {
      if (isAppError(err, "CONFLICT")) return this.catalog.resolve(platform, version);
      throw err;
    }
  }
}
