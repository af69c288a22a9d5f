import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE_FORMAT, MANIFEST_FILE, type Manifest } from "./bundle-format.ts";
import { isSafeRelative } from "./filesystem-state.ts";
import { copyBuffer, hashFile } from "./hashing-writer.ts";

export interface VerifyProblem {
  /** bundle-relative file the problem is in */
  file: string;
  reason: string;
}

export interface VerifyResult {
  id: string;
  valid: boolean;
  missingFiles: string[];
  mismatchedFiles: string[];
  problems: VerifyProblem[];
  /** the manifest when it could be read and is of a known format */
  manifest: Manifest | null;
}

/** Reads and shape-checks manifest.json; a problem names the manifest itself. */
export function readManifest(dir: string): { manifest: Manifest | null; problem: VerifyProblem | null } {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    return {
      manifest: null,
      problem: { file: MANIFEST_FILE, reason: "missing (the bundle was never completed)" },
    };
  }
  let parsed: Partial<Manifest>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<Manifest>;
  } catch (err) {
    return {
      manifest: null,
      problem: { file: MANIFEST_FILE, reason: `not valid JSON: ${(err as Error).message}` },
    };
  }
  if (typeof parsed.format !== "number") {
    return { manifest: null, problem: { file: MANIFEST_FILE, reason: "has no format version" } };
  }
  if (parsed.format > BUNDLE_FORMAT) {
    return {
      manifest: null,
      problem: {
        file: MANIFEST_FILE,
        reason: `format ${parsed.format} is newer than this version understands (${BUNDLE_FORMAT}); restore with a newer prexor`,
      },
    };
  }
  if (!Array.isArray(parsed.files) || !Array.isArray(parsed.collections) || typeof parsed.id !== "string") {
    return { manifest: null, problem: { file: MANIFEST_FILE, reason: "lacks id, files or collections" } };
  }
  return { manifest: parsed as Manifest, problem: null };
}

/**
 * Recomputes every file's SHA-256 and size against the manifest. A bundle is valid only when the
 * manifest is readable and of a known format, every listed file is present with its recorded hash,
 * and every collection's NDJSON file is among them.
 */
export async function verifyBundle(dir: string, id: string): Promise<VerifyResult> {
  const result: VerifyResult = {
    id,
    valid: false,
    missingFiles: [],
    mismatchedFiles: [],
    problems: [],
    manifest: null,
  };
  const { manifest, problem } = readManifest(dir);
  if (problem) {
    if (problem.reason.startsWith("missing")) result.missingFiles.push(MANIFEST_FILE);
    result.problems.push(problem);
    return result;
  }
  const listed = new Set<string>();
  const buf = copyBuffer();
  for (const f of manifest!.files) {
    if (typeof f?.path !== "string" || !isSafeRelative(f.path)) {
      result.problems.push({
        file: MANIFEST_FILE,
        reason: `lists an unsafe path ${JSON.stringify(f?.path)}`,
      });
      continue;
    }
    listed.add(f.path);
    const abs = join(dir, f.path);
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      result.missingFiles.push(f.path);
      result.problems.push({ file: f.path, reason: "missing" });
      continue;
    }
    const actual = await hashFile(abs, buf);
    if (actual.sha256 !== f.sha256 || actual.bytes !== f.bytes) {
      result.mismatchedFiles.push(f.path);
      result.problems.push({
        file: f.path,
        reason:
          actual.bytes !== f.bytes
            ? `size ${actual.bytes} bytes, manifest says ${f.bytes} (truncated or extended)`
            : `SHA-256 ${actual.sha256.slice(0, 12)}… does not match the manifest's ${String(f.sha256).slice(0, 12)}…`,
      });
    }
  }
  for (const c of manifest!.collections) {
    if (!listed.has(c.file))
      result.problems.push({ file: c.file, reason: `collection ${c.name} has no file entry` });
  }
  result.manifest = manifest;
  result.valid = result.problems.length === 0;
  return result;
}
