import { AppError } from "../errors.ts";

/**
 * Template file paths are relative, `/`-separated and free of traversal. Every path that enters a
 * template (API upload, archive entry, filesystem scan) goes through here, so that the hash, the merge
 * and the daemon's writes all agree on one spelling of each path.
 */
export function normalizeTemplatePath(raw: string): string {
  const reject = (reason: string): never => {
    throw new AppError("INVALID_ARGUMENT", `invalid template path ${JSON.stringify(raw)}: ${reason}`, {
      path: raw,
      reason,
    });
  };
  if (raw.length === 0) reject("empty");
  if (raw.includes("\0")) reject("contains a NUL byte");
  // A backslash is a separator on Windows and a legal filename character on Linux; refusing it is the only
  // choice that means the same thing on every host.
  if (raw.includes("\\")) reject("contains a backslash");
  if (raw.startsWith("/")) reject("absolute path");
  if (/^[A-Za-z]:/.test(raw)) reject("drive-letter path");

  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") reject("contains a '..' segment");
    segments.push(segment);
  }
  if (segments.length === 0) reject("names no file");
  return segments.join("/");
}

/** True when the path is a valid template path; for callers that filter instead of failing. */
export function isValidTemplatePath(raw: string): boolean {
  try {
    normalizeTemplatePath(raw);
    return true;
  } catch {
    // the error is the answer here (see the doc comment)
    return false;
  }
}

/**
 * A protected path covers itself and, when it names a directory, everything below it. Static instances
 * keep operator-owned files at these paths when templates are re-applied.
 */
export function isProtectedPath(path: string, protectedPaths: readonly string[]): boolean {
  const normalized = normalizeTemplatePath(path);
  return protectedPaths.some((entry) => {
    const guard = normalizeTemplatePath(entry);
    return normalized === guard || normalized.startsWith(`${guard}/`);
  });
}
