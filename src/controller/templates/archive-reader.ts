import { Gunzip, Unzip, UnzipInflate } from "fflate";
import { Parser } from "tar";
import { AppError } from "../../core/errors.ts";
import type { TemplateFile } from "../../core/templates/template-file.ts";
import { normalizeTemplatePath } from "../../core/templates/template-path.ts";

export interface ArchiveLimits {
  /** total uncompressed bytes */
  maxTotalBytes: number;
  maxEntryBytes: number;
  maxFiles: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntryBytes: 128 * 1024 * 1024,
  maxFiles: 50_000,
};

const INPUT_SLICE = 4096;

function refuse(message: string, details?: Record<string, unknown>): AppError {
  return new AppError("INVALID_ARGUMENT", `archive refused: ${message}`, details);
}

/**
 * Unpacks a template upload (tar.gz or zip, told apart by magic bytes) into files, checking every
 * entry before accepting any: safe relative paths only, no links of any kind, size and count
 * limits enforced while inflating (so a zip bomb is stopped early, not after filling memory).
 * Either every file comes back or the call throws.
 */
export async function readTemplateArchive(
  bytes: Uint8Array,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<TemplateFile[]> {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return readTarGz(bytes, limits);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readZip(bytes, limits);
  throw refuse("expected a .tar.gz or .zip file");
}

class Budget {
  total = 0;
  files = 0;
  readonly seen = new Set<string>();
  constructor(private readonly limits: ArchiveLimits) {}

  addFile(rawPath: string): string {
    let path: string;
    try {
      path = normalizeTemplatePath(rawPath);
    } catch (err) {
      throw refuse(`unsafe path ${JSON.stringify(rawPath)}: ${(err as Error).message}`, { path: rawPath });
    }
    if (this.seen.has(path)) throw refuse(`duplicate entry ${JSON.stringify(path)}`, { path });
    this.seen.add(path);
    if (++this.files > this.limits.maxFiles) throw refuse(`more than ${this.limits.maxFiles} files`);
    return path;
  }

  addBytes(path: string, entryBytes: number, delta: number): void {
    this.total += delta;
    if (entryBytes > this.limits.maxEntryBytes)
      throw refuse(`${path} is larger than ${this.limits.maxEntryBytes} bytes`, { path });
    if (this.total > this.limits.maxTotalBytes)
      throw refuse(`unpacked size exceeds ${this.limits.maxTotalBytes} bytes`);
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function readTarGz(bytes: Uint8Array, limits: ArchiveLimits): Promise<TemplateFile[]> {
  const budget = new Budget(limits);
  const files: TemplateFile[] = [];
  let failure: unknown;
  const parser = new Parser({
    strict: true,
    onwarn: (_code, message) => {
      failure ??= refuse(`corrupt tar: ${message}`);
    },
    onReadEntry: (entry) => {
      if (failure) return entry.resume();
      try {
        if (entry.type === "Directory") return entry.resume();
        if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") {
          throw refuse(
            `${JSON.stringify(entry.path)} is a ${entry.type}; only files and directories are allowed`,
            { path: entry.path },
          );
        }
        const path = budget.addFile(entry.path);
        const chunks: Uint8Array[] = [];
        let size = 0;
        entry.on("data", (chunk: Uint8Array) => {
          if (failure) return;
          try {
            size += chunk.byteLength;
            budget.addBytes(path, size, chunk.byteLength);
            chunks.push(chunk);
          } catch (err) {
            failure = err;
          }
        });
        entry.on("end", () => {
          if (!failure) files.push({ path, bytes: concat(chunks, size) });
        });
      } catch (err) {
        failure = err;
        entry.resume();
      }
    },
  });
  let inflated = 0;
  const gunzip = new Gunzip((chunk) => {
    if (failure) return;
    inflated += chunk.byteLength;
    // tar headers and padding add a little on top of the payload
    if (inflated > limits.maxTotalBytes + limits.maxFiles * 1024 + 1024 * 1024) {
      failure = refuse(`unpacked size exceeds ${limits.maxTotalBytes} bytes`);
      return;
    }
    parser.write(Buffer.from(chunk));
  });
  try {
    // Small input slices bound each inflated chunk (deflate expands at most ~1000×), so the size
    // check stops a bomb after a few megabytes instead of after inflating all of it.
    for (let offset = 0; offset < bytes.byteLength && !failure; offset += INPUT_SLICE) {
      gunzip.push(bytes.subarray(offset, offset + INPUT_SLICE), offset + INPUT_SLICE >= bytes.byteLength);
    }
  } catch (err) {
    throw refuse(`corrupt gzip data: ${(err as Error).message}`);
  }
  // The parser emits entries and their data on later turns; wait for it to finish.
  await new Promise<void>((resolve, reject) => {
    parser.on("end", resolve);
    parser.on("error", (err: Error) => (failure ? resolve() : reject(refuse(`corrupt tar: ${err.message}`))));
    parser.end();
  });
  if (failure) throw failure;
  return files;
}

function readZip(bytes: Uint8Array, limits: ArchiveLimits): TemplateFile[] {
  const budget = new Budget(limits);
  const files: TemplateFile[] = [];
  let failure: unknown;
  const unzip = new Unzip((file) => {
    if (failure) return;
    try {
      if (file.name.endsWith("/")) return;
      // A zip symlink is stored as a small file holding its target; we only ever write regular
      // files, so such an entry cannot point anywhere once materialized.
      const path = budget.addFile(file.name);
      if (file.originalSize !== undefined && file.originalSize > limits.maxEntryBytes) {
        throw refuse(`${path} is larger than ${limits.maxEntryBytes} bytes`, { path });
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      file.ondata = (err, chunk, final) => {
        if (failure) return;
        if (err) {
          failure = refuse(`corrupt zip entry ${path}: ${err.message}`);
          return;
        }
        try {
          size += chunk.byteLength;
          budget.addBytes(path, size, chunk.byteLength);
          chunks.push(chunk);
          if (final) files.push({ path, bytes: concat(chunks, size) });
        } catch (e) {
          failure = e;
          file.terminate();
        }
      };
      file.start();
    } catch (err) {
      failure = err;
    }
  });
  unzip.register(UnzipInflate);
  try {
    for (let offset = 0; offset < bytes.byteLength && !failure; offset += INPUT_SLICE) {
      unzip.push(bytes.subarray(offset, offset + INPUT_SLICE), offset + INPUT_SLICE >= bytes.byteLength);
    }
  } catch (err) {
    failure ??= refuse(`corrupt zip data: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  if (files.length !== budget.files) throw refuse("the zip ended before all entries were read");
  return files;
}
