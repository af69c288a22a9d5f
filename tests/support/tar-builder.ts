import { gzipSync } from "fflate";

/**
 * Builds tar.gz bytes from entries exactly as given, including ones a careful archiver would
 * refuse to write (absolute paths, `..`, links), so tests can feed them to the upload checks.
 */
export interface TarEntry {
  path: string;
  content?: string | Uint8Array;
  type?: "file" | "dir" | "symlink" | "hardlink";
  linkTarget?: string;
}

function header(entry: TarEntry, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (offset: number, length: number, text: string) => {
    const bytes = new TextEncoder().encode(text);
    h.set(bytes.subarray(0, length), offset);
  };
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0");
  put(0, 100, entry.path);
  put(100, 8, octal(entry.type === "dir" ? 0o755 : 0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(1_700_000_000, 12));
  put(148, 8, "        ");
  const typeflag = { file: "0", dir: "5", symlink: "2", hardlink: "1" }[entry.type ?? "file"];
  put(156, 1, typeflag);
  put(157, 100, entry.linkTarget ?? "");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

export function tarGz(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const content =
      entry.type === "file" || entry.type === undefined
        ? typeof entry.content === "string"
          ? new TextEncoder().encode(entry.content)
          : (entry.content ?? new Uint8Array())
        : new Uint8Array();
    parts.push(header(entry, content.byteLength));
    parts.push(content);
    const pad = (512 - (content.byteLength % 512)) % 512;
    parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const tar = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    tar.set(p, offset);
    offset += p.byteLength;
  }
  return gzipSync(tar);
}
