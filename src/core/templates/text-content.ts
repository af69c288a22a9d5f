/**
 * Text versus binary is decided by content, not by extension: templates carry jars, world regions and
 * plugin data under arbitrary names. A file is text when it has no NUL byte and is valid UTF-8. NUL
 * never occurs in UTF-8 text but is common early in every binary format (zip/jar headers, NBT, region
 * files, images); strict UTF-8 decoding catches the rest. UTF-16 text counts as binary (it has NULs),
 * which is safe: binary files are only ever copied, never rewritten.
 */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

const BOM = "\uFEFF";

/** The file's text (byte-order mark kept, so rewriting it round-trips), or undefined when binary. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // not UTF-8: treated as binary, as documented
    return undefined;
  }
}

export function isTextContent(bytes: Uint8Array): boolean {
  return decodeText(bytes) !== undefined;
}

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Structured parsers (JSON, TOML, YAML) reject or misread a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}
