import type { TemplateFile } from "../core/templates/template-file.ts";
import { compareTemplatePaths } from "../core/templates/template-hash.ts";

/**
 * How a template layer's files travel in ArtifactChunk frames: for each file, sorted by path, a
 * big-endian u32 path length, the UTF-8 path, a u32 content length and the bytes. Deliberately not a
 * tar.gz: the layer is identified by its content hash (`hashTemplateFiles`), which the daemon checks
 * after decoding, so the transfer format only has to be unambiguous, not canonical or compressed.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeLayerBundle(files: readonly TemplateFile[]): Uint8Array {
  const sorted = [...files].sort((a, b) => compareTemplatePaths(a.path, b.path));
  const paths = sorted.map((f) => encoder.encode(f.path));
  const size = sorted.reduce((sum, f, i) => sum + 8 + paths[i]!.length + f.bytes.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  sorted.forEach((file, i) => {
    const path = paths[i]!;
    view.setUint32(offset, path.length);
    out.set(path, offset + 4);
    offset += 4 + path.length;
    view.setUint32(offset, file.bytes.length);
    out.set(file.bytes, offset + 4);
    offset += 4 + file.bytes.length;
  });
  return out;
}

export function decodeLayerBundle(bytes: Uint8Array): TemplateFile[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files: TemplateFile[] = [];
  let offset = 0;
  const take = (): Uint8Array => {
    if (offset + 4 > bytes.length) throw new Error("layer bundle truncated");
    const length = view.getUint32(offset);
    const start = offset + 4;
    if (start + length > bytes.length) throw new Error("layer bundle truncated");
    offset = start + length;
    return bytes.subarray(start, start + length);
  };
  while (offset < bytes.length) {
    const path = decoder.decode(take());
    files.push({ path, bytes: take().slice() });
  }
  return files;
}
