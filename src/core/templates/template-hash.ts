import { createHash } from "node:crypto";
import { AppError } from "../errors.ts";
import type { TemplateFile } from "./template-file.ts";
import { normalizeTemplatePath } from "./template-path.ts";

const encoder = new TextEncoder();

/** Orders paths by their UTF-8 bytes, so every language and locale sorts them the same way. */
export function compareTemplatePaths(a: string, b: string): number {
  return Buffer.compare(encoder.encode(a), encoder.encode(b));
}

/**
 * Content hash of one template version: SHA-256 over the files sorted by relative path, feeding each
 * file's path and then its bytes. An empty template hashes to the empty string.
 *
 * Each record is framed (path, a NUL, the content length as 8 bytes big-endian, the content). Plain
 * concatenation would let a path/content boundary shift collide, e.g. `{"a.txt": "x"}` and
 * `{"a.txtx": ""}`; paths never contain NUL and the length bounds the content, so framed records cannot.
 */
export function hashTemplateFiles(files: readonly TemplateFile[]): string {
  if (files.length === 0) return "";
  const byPath = new Map<string, Uint8Array>();
  for (const file of files) {
    const path = normalizeTemplatePath(file.path);
    if (byPath.has(path)) {
      throw new AppError("INVALID_ARGUMENT", `duplicate template path ${JSON.stringify(path)}`, { path });
    }
    byPath.set(path, file.bytes);
  }

  const hash = createHash("sha256");
  const length = Buffer.alloc(8);
  for (const path of [...byPath.keys()].sort(compareTemplatePaths)) {
    const bytes = byPath.get(path)!;
    hash.update(encoder.encode(path));
    hash.update(new Uint8Array([0]));
    length.writeBigUInt64BE(BigInt(bytes.byteLength));
    hash.update(length);
    hash.update(bytes);
  }
  return hash.digest("hex");
}

/** Total size in bytes of a template version, as recorded next to its hash. */
export function templateSizeBytes(files: readonly TemplateFile[]): number {
  return files.reduce((sum, file) => sum + file.bytes.byteLength, 0);
}
