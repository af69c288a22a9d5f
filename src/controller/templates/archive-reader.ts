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
  let files: TemplateFile[];
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) files = await readTarGz(bytes, limits);
  else if (bytes[0] === 0x50 && bytes[1] === 0x4b) files = readZip(bytes, limits);
  else throw refuse("expected a .tar.gz or .zip file");
  // A version with no files would become current and start every new instance with nothing.
  if (files.length === 0) throw refuse("the archive holds no files");
  return files;
}

/** Longest file or directory name most filesystems take (ext4, xfs, btrfs: 255 bytes). */
const MAX_SEGMENT_BYTES = 255;
/** Deeper than any real server tree; keeps every path far inside PATH_MAX. */
const MAX_SEGMENTS = 64;
const MAX_PATH_BYTES = 1024;
/** C0 controls and DEL: a name holding them rewrites terminals and log lines that print it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

class Budget {
  total = 0;
  files = 0;
  /** zip entries seen, directories included, to compare with the central directory's count */
  entries = 0;
  readonly seen = new Set<string>();
  /** every directory some file lives in, so a file and a directory of one name are caught */
  private readonly dirs = new Set<string>();
  constructor(private readonly limits: ArchiveLimits) {}

  addFile(rawPath: string): string {
    if (CONTROL_CHARACTERS.test(rawPath)) {
      throw refuse(`the entry name ${JSON.stringify(rawPath)} contains control characters`, {
        path: rawPath,
      });
    }
    let path: string;
    try {
      path = normalizeTemplatePath(rawPath);
    } catch (err) {
      throw refuse(`unsafe path ${JSON.stringify(rawPath)}: ${(err as Error).message}`, { path: rawPath });
    }
    const segments = path.split("/");
    const encoder = new TextEncoder();
    if (segments.length > MAX_SEGMENTS || encoder.encode(path).byteLength > MAX_PATH_BYTES) {
      throw refuse(
        `the path of ${JSON.stringify(path.slice(0, 80))}… is too long (at most ${MAX_SEGMENTS} levels and ${MAX_PATH_BYTES} bytes)`,
        { path: path.slice(0, 200) },
      );
    }
    const long = segments.find((seg) => encoder.encode(seg).byteLength > MAX_SEGMENT_BYTES);
    if (long !== undefined) {
      throw refuse(
        `a name in ${JSON.stringify(path.slice(0, 80))} is longer than ${MAX_SEGMENT_BYTES} bytes`,
        {
          path: path.slice(0, 200),
        },
      );
    }
    if (this.seen.has(path)) throw refuse(`duplicate entry ${JSON.stringify(path)}`, { path });
    if (this.dirs.has(path)) throw refuse(`${JSON.stringify(path)} is both a file and a directory`, { path });
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join("/");
      if (this.seen.has(dir)) {
        throw refuse(`${JSON.stringify(dir)} is both a file and a directory (of ${JSON.stringify(path)})`, {
          path,
        });
      }
      this.dirs.add(dir);
    }
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

/**
 * Where the zip's end-of-central-directory record starts and how many entries it declares, or
 * null when there is none: a truncated or cut zip has no EOCD, and streaming readers would
 * otherwise accept whatever local entries they happened to find (or none at all).
 */
function endOfCentralDirectory(bytes: Uint8Array): { entries: number } | null {
  const MIN_EOCD = 22;
  const lowest = Math.max(0, bytes.byteLength - MIN_EOCD - 0xffff);
  for (let i = bytes.byteLength - MIN_EOCD; i >= lowest; i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06) {
      const commentLength = bytes[i + 20]! | (bytes[i + 21]! << 8);
      if (i + MIN_EOCD + commentLength !== bytes.byteLength) continue;
      return { entries: bytes[i + 10]! | (bytes[i + 11]! << 8) };
    }
  }
  return null;
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
  const eocd = endOfCentralDirectory(bytes);
  if (!eocd) throw refuse("truncated or corrupt zip: no end-of-central-directory record");
  const budget = new Budget(limits);
  const files: TemplateFile[] = [];
  let failure: unknown;
  const unzip = new Unzip((file) => {
    if (failure) return;
    budget.entries++;
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
  // 0xffff means ZIP64 keeps the real count elsewhere; otherwise the two must agree.
  if (eocd.entries !== 0xffff && eocd.entries !== budget.entries) {
    throw refuse(
      `corrupt zip: the central directory lists ${eocd.entries} entries, the archive holds ${budget.entries}`,
    );
  }
  return files;
}
