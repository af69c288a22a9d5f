import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import { hashTemplateFiles, templateSizeBytes } from "../../core/templates/template-hash.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { GROUPS } from "../groups/group-service.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, readTemplateArchive } from "./archive-reader.ts";
import type { TemplateFiles } from "./template-files.ts";

/** The template records (their files live in TemplateFiles). */
export const TEMPLATES = "templates" satisfies CollectionName;
/** More groups than any cluster has; the in-use check reads no further. */
const GROUP_SCAN_LIMIT = 10_000;

export interface TemplateVersion {
  hash: string;
  sizeBytes: number;
  fileCount: number;
  createdAt: number;
  createdBy: string;
}

interface TemplateDoc extends Doc {
  description: string;
  platform: string | null;
  currentHash: string | null;
  versions: TemplateVersion[];
  createdAt: number;
  updatedAt: number;
}

export interface TemplateView {
  name: string;
  description: string;
  platform: string | null;
  currentHash: string | null;
  sizeBytes: number;
  fileCount: number;
  versionCount: number;
  createdAt: string;
  updatedAt: string;
}

function view(doc: TemplateDoc): TemplateView {
  const current = doc.versions.find((v) => v.hash === doc.currentHash);
  return {
    name: doc._id,
    description: doc.description,
    platform: doc.platform,
    currentHash: doc.currentHash,
    sizeBytes: current?.sizeBytes ?? 0,
    fileCount: current?.fileCount ?? 0,
    versionCount: doc.versions.length,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
  };
}

/** Template metadata in the store, content on disk; versions are named by their content hash. */
export class TemplateService {
  constructor(
    private readonly store: DurableStore,
    private readonly files: TemplateFiles,
    private readonly events: EventPublisher,
    private readonly lease: LeaseGateOptions,
    private readonly limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
    private readonly clock: Clock = systemClock,
  ) {}

  private get templates() {
    return this.store.collection<TemplateDoc>(TEMPLATES);
  }

  private async require(name: string): Promise<TemplateDoc> {
    const doc = await this.templates.get(name);
    if (!doc) throw new AppError("NOT_FOUND", `template "${name}" not found`);
    return doc;
  }

  async list(): Promise<TemplateView[]> {
    return (await this.templates.find({}, { sort: [["_id", 1]] })).map(view);
  }

  async get(name: string): Promise<TemplateView> {
    return view(await this.require(name));
  }

  /** Every template's versions oldest first and its current one: what deployment pins resolve against. */
  async histories(): Promise<Array<{ name: string; currentHash: string | null; hashes: string[] }>> {
    return (await this.templates.find({}, { sort: [["_id", 1]] })).map((d) => ({
      name: d._id,
      currentHash: d.currentHash,
      hashes: d.versions.map((v) => v.hash),
    }));
  }

  /** One version (default: current) as a tar.gz, the format `push` uploads. */
  async exportArchive(name: string, hash?: string): Promise<{ hash: string; bytes: Uint8Array }> {
    const doc = await this.require(name);
    const version = hash ?? doc.currentHash;
    if (!version) throw new AppError("NOT_FOUND", `template "${name}" has no version yet`);
    const match = doc.versions.filter(
      (v) => v.hash === version || (version.length >= 6 && v.hash.startsWith(version)),
    );
    if (match.length !== 1) throw new AppError("NOT_FOUND", `template "${name}" has no version ${version}`);
    const full = match[0]!.hash;
    if (!this.files.has(name, full))
      throw new AppError("ILLEGAL_STATE", `the files of version ${full} are missing on disk`);
    const files: Record<string, Uint8Array> = {};
    for (const f of this.files.read(name, full)) files[f.path] = f.bytes;
    const archive = new Bun.Archive(files, { compress: "gzip" });
    return { hash: full, bytes: new Uint8Array(await (await archive.blob()).arrayBuffer()) };
  }

  /**
   * A new version made of `baseHash` (default: the current one) with `files` laid over it
   * (deploy-back: an instance's edited config files). Becomes current, like an upload.
   */
  async saveFiles(
    name: string,
    files: ReadonlyArray<{ path: string; bytes: Uint8Array }>,
    actor: string,
    /** the version laid under the files (default: current) */
    baseHash?: string,
  ): Promise<{ version: TemplateVersion; created: boolean }> {
    const doc = await this.require(name);
    const merged = new Map<string, Uint8Array>();
    const base =
      baseHash !== undefined && doc.versions.some((v) => v.hash === baseHash) ? baseHash : doc.currentHash;
    if (base && this.files.has(name, base))
      for (const f of this.files.read(name, base)) merged.set(f.path, f.bytes);
    for (const f of files) merged.set(f.path, f.bytes);
    const archive = new Bun.Archive(Object.fromEntries(merged), { compress: "gzip" });
    return this.upload(name, new Uint8Array(await (await archive.blob()).arrayBuffer()), actor);
  }

  async versions(name: string): Promise<TemplateVersion[]> {
    return [...(await this.require(name)).versions].reverse();
  }

  async create(input: {
    name: string;
    description?: string;
    platform?: string | null;
  }): Promise<TemplateView> {
    const now = this.clock.now();
    const doc = await withLease(this.lease, `template:${input.name}`, (fence) =>
      this.templates.insert(
        {
          _id: input.name,
          description: input.description ?? "",
          platform: input.platform ?? null,
          currentHash: null,
          versions: [],
          createdAt: now,
          updatedAt: now,
        },
        { fence },
      ),
    ).catch(conflictOnDuplicate(`template "${input.name}" already exists`));
    return view(doc);
  }

  async update(name: string, patch: { description?: string; platform?: string | null }) {
    return withLease(this.lease, `template:${name}`, async (fence) => {
      const before = await this.require(name);
      const after = await this.templates.update(
        name,
        { ...patch, updatedAt: this.clock.now() },
        { fence, ifRev: before._rev },
      );
      return { before: view(before), after: view(after!) };
    });
  }

  /**
   * A new version from an uploaded archive. The archive is checked and unpacked completely before
   * anything is written; the version directory then appears atomically and becomes current.
   */
  async upload(
    name: string,
    archive: Uint8Array,
    actor: string,
  ): Promise<{ version: TemplateVersion; created: boolean }> {
    await this.require(name);
    const entries = await readTemplateArchive(archive, this.limits);
    const hash = hashTemplateFiles(entries);
    this.files.write(name, hash, entries);
    return withLease(this.lease, `template:${name}`, async (fence) => {
      const doc = await this.require(name);
      const existing = doc.versions.find((v) => v.hash === hash);
      const version = existing ?? {
        hash,
        sizeBytes: templateSizeBytes(entries),
        fileCount: entries.length,
        createdAt: this.clock.now(),
        createdBy: actor,
      };
      const versions = existing ? doc.versions : [...doc.versions, version];
      await this.templates.update(
        name,
        { versions, currentHash: hash, updatedAt: this.clock.now() },
        { fence, ifRev: doc._rev },
      );
      if (doc.currentHash !== hash) {
        await this.events.publish({
          type: "TEMPLATE_UPDATED",
          payload: { templateName: name, oldHash: doc.currentHash, newHash: hash },
        });
      }
      return { version, created: !existing };
    });
  }

  /** Makes an earlier version current again (default: the one before the current). */
  async rollback(name: string, hash?: string): Promise<{ from: string | null; to: string }> {
    return withLease(this.lease, `template:${name}`, async (fence) => {
      const doc = await this.require(name);
      const index = doc.versions.findIndex((v) => v.hash === doc.currentHash);
      const target = hash ?? doc.versions[index - 1]?.hash;
      if (!target)
        throw new AppError("ILLEGAL_STATE", `template "${name}" has no earlier version to roll back to`);
      if (!doc.versions.some((v) => v.hash === target))
        throw new AppError("NOT_FOUND", `template "${name}" has no version ${target}`);
      if (!this.files.has(name, target))
        throw new AppError("ILLEGAL_STATE", `the files of version ${target} are missing on disk`);
      await this.templates.update(
        name,
        { currentHash: target, updatedAt: this.clock.now() },
        { fence, ifRev: doc._rev },
      );
      await this.events.publish({
        type: "TEMPLATE_UPDATED",
        payload: { templateName: name, oldHash: doc.currentHash, newHash: target },
      });
      return { from: doc.currentHash, to: target };
    });
  }

  async deleteVersion(name: string, hash: string): Promise<TemplateVersion> {
    return withLease(this.lease, `template:${name}`, async (fence) => {
      const doc = await this.require(name);
      const version = doc.versions.find((v) => v.hash === hash);
      if (!version) throw new AppError("NOT_FOUND", `template "${name}" has no version ${hash}`);
      if (doc.currentHash === hash)
        throw new AppError("ILLEGAL_STATE", "the current version cannot be deleted; roll back first");
      await this.templates.update(
        name,
        { versions: doc.versions.filter((v) => v.hash !== hash) },
        { fence, ifRev: doc._rev },
      );
      this.files.removeVersion(name, hash);
      return version;
    });
  }

  async delete(name: string): Promise<TemplateView> {
    // A referential check across the two services (each would otherwise need the other to be built).
    const users = await this.store
      .collection<Doc & { templates: string[] }>(GROUPS)
      .find({}, { limit: GROUP_SCAN_LIMIT });
    const usedBy = users.filter((g) => g.templates.includes(name)).map((g) => g._id);
    if (usedBy.length > 0)
      throw new AppError("ILLEGAL_STATE", `template "${name}" is used by group(s) ${usedBy.join(", ")}`, {
        usedBy,
      });
    return withLease(this.lease, `template:${name}`, async (fence) => {
      const doc = await this.require(name);
      await this.templates.delete(name, { fence });
      this.files.removeTemplate(name);
      return view(doc);
    });
  }

  async listFiles(name: string, hash?: string) {
    const doc = await this.require(name);
    const version = hash ?? doc.currentHash;
    if (!version) return [];
    if (!doc.versions.some((v) => v.hash === version))
      throw new AppError("NOT_FOUND", `template "${name}" has no version ${version}`);
    return this.files.list(name, version);
  }
}
