import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import { PLATFORMS } from "../../core/groups/group-schema.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";

/** The platform artifacts the controller serves. */
export const CATALOG = "catalog" satisfies CollectionName;

/** Where a runtime artifact comes from: a URL daemons download, or a file the controller serves. */
export type ArtifactSource = { kind: "url"; url: string } | { kind: "controller"; file: string };

/** Who put the entry there: an operator (REST/CLI), an imported file, or the PaperMC downloads API. */
export type CatalogOrigin = "manual" | "import" | "papermc";

interface CatalogDoc extends Doc {
  platform: string;
  version: string;
  sha256: string;
  source: ArtifactSource | null;
  recommended: boolean;
  /** the publisher's build number (PaperMC); absent for entries an operator wrote */
  build?: number | null;
  origin?: CatalogOrigin;
  createdAt: number;
  updatedAt: number;
}

export interface CatalogEntry {
  platform: string;
  version: string;
  sha256: string;
  source: ArtifactSource | null;
  recommended: boolean;
  /** false until the artifact is reachable: a URL is set, or the file was uploaded */
  ready: boolean;
  build: number | null;
  origin: CatalogOrigin;
}

function view(doc: CatalogDoc): CatalogEntry {
  return {
    platform: doc.platform,
    version: doc.version,
    sha256: doc.sha256,
    source: doc.source,
    recommended: doc.recommended,
    ready: doc.source !== null,
    build: doc.build ?? null,
    origin: doc.origin ?? "manual",
  };
}

export function normalizePlatform(raw: string): string {
  const platform = raw.toUpperCase();
  if (!PLATFORMS.includes(platform))
    throw new AppError("INVALID_ARGUMENT", `unknown platform "${raw}"; one of ${PLATFORMS.join(", ")}`);
  return platform;
}

/** Platforms → versions → artifact with its SHA-256, which daemons verify before use. */
export class CatalogService {
  constructor(
    private readonly store: DurableStore,
    private readonly artifactDir: string,
    private readonly lease: LeaseGateOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  private get col() {
    return this.store.collection<CatalogDoc>(CATALOG);
  }

  private async require(platform: string, version: string): Promise<CatalogDoc> {
    const doc = await this.col.get(`${platform}:${version}`);
    if (!doc) throw new AppError("NOT_FOUND", `no catalog entry ${platform} ${version}`);
    return doc;
  }

  async list(platform?: string): Promise<CatalogEntry[]> {
    const filter = platform ? { platform: normalizePlatform(platform) } : {};
    return (
      await this.col.find(filter, {
        sort: [
          ["platform", 1],
          ["version", 1],
        ],
      })
    ).map(view);
  }

  async resolve(platform: string, version: string): Promise<CatalogEntry> {
    const p = normalizePlatform(platform);
    if (version === "" || version === "recommended") {
      const recommended = await this.col.findOne({ platform: p, recommended: true });
      if (!recommended) throw new AppError("NOT_FOUND", `no recommended ${p} version in the catalog`);
      return view(recommended);
    }
    return view(await this.require(p, version));
  }

  async add(
    platformRaw: string,
    input: {
      version: string;
      sha256: string;
      url?: string;
      recommended?: boolean;
      build?: number;
      origin?: CatalogOrigin;
    },
  ) {
    const platform = normalizePlatform(platformRaw);
    const now = this.clock.now();
    const doc = await withLease(this.lease, `catalog:${platform}`, async (fence) => {
      if (input.recommended) await this.clearRecommended(platform, fence);
      return this.col.insert(
        {
          _id: `${platform}:${input.version}`,
          platform,
          version: input.version,
          sha256: input.sha256.toLowerCase(),
          source: input.url ? { kind: "url", url: input.url } : null,
          recommended: input.recommended ?? false,
          build: input.build ?? null,
          origin: input.origin ?? "manual",
          createdAt: now,
          updatedAt: now,
        },
        { fence },
      );
    }).catch(conflictOnDuplicate(`${platform} ${input.version} is already in the catalog`));
    return view(doc);
  }

  async update(platformRaw: string, version: string, patch: { sha256?: string; url?: string | null }) {
    const platform = normalizePlatform(platformRaw);
    return withLease(this.lease, `catalog:${platform}`, async (fence) => {
      const before = await this.require(platform, version);
      const set: Partial<CatalogDoc> = { updatedAt: this.clock.now() };
      if (patch.sha256 && patch.sha256.toLowerCase() !== before.sha256) {
        set.sha256 = patch.sha256.toLowerCase();
        // An uploaded file no longer matches a changed checksum.
        if (before.source?.kind === "controller") set.source = null;
      }
      if (patch.url !== undefined) set.source = patch.url === null ? null : { kind: "url", url: patch.url };
      const after = await this.col.update(before._id, set, { fence, ifRev: before._rev });
      return { before: view(before), after: view(after!) };
    });
  }

  async recommend(platformRaw: string, version: string): Promise<CatalogEntry> {
    const platform = normalizePlatform(platformRaw);
    return withLease(this.lease, `catalog:${platform}`, async (fence) => {
      const doc = await this.require(platform, version);
      await this.clearRecommended(platform, fence);
      return view(
        (await this.col.update(doc._id, { recommended: true, updatedAt: this.clock.now() }, { fence }))!,
      );
    });
  }

  private async clearRecommended(platform: string, fence: { scope: string; token: number }): Promise<void> {
    for (const doc of await this.col.find({ platform, recommended: true })) {
      await this.col.update(doc._id, { recommended: false }, { fence });
    }
  }

  async remove(platformRaw: string, version: string): Promise<CatalogEntry> {
    const platform = normalizePlatform(platformRaw);
    return withLease(this.lease, `catalog:${platform}`, async (fence) => {
      const doc = await this.require(platform, version);
      await this.col.delete(doc._id, { fence });
      return view(doc);
    });
  }

  /**
   * Stores an uploaded artifact; its SHA-256 must be the one the entry declares. With `create`
   * (`catalog import`), a missing entry is made from the bytes' own hash.
   */
  async storeArtifact(
    platformRaw: string,
    version: string,
    bytes: Uint8Array,
    options: { create?: boolean } = {},
  ): Promise<CatalogEntry> {
    const platform = normalizePlatform(platformRaw);
    const actual = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    let doc = await this.col.get(`${platform}:${version}`);
    if (!doc && options.create) {
      await this.add(platform, { version, sha256: actual, origin: "import" }).catch((err) => {
        // Another request imported it first; the hash comparison below decides.
        if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
      });
      doc = await this.col.get(`${platform}:${version}`);
    }
    if (!doc) throw new AppError("NOT_FOUND", `no catalog entry ${platform} ${version}`);
    if (actual !== doc.sha256) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `artifact SHA-256 ${actual} does not match the catalog's ${doc.sha256}`,
        { reason: "SHA256_MISMATCH" },
      );
    }
    mkdirSync(this.artifactDir, { recursive: true });
    const final = join(this.artifactDir, actual);
    if (!existsSync(final)) {
      const staging = `${final}.${crypto.randomUUID()}.partial`;
      try {
        writeFileSync(staging, bytes);
        renameSync(staging, final);
      } finally {
        rmSync(staging, { force: true });
      }
    }
    return withLease(this.lease, `catalog:${platform}`, async (fence) =>
      view(
        (await this.col.update(
          doc._id,
          { source: { kind: "controller", file: actual }, updatedAt: this.clock.now() },
          { fence },
        ))!,
      ),
    );
  }
}
