import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { redactUri, SECRET_KEY_PATTERN } from "../../log/redact.ts";

/** One file of the install root that a full bundle carries, by its root-relative path. */
export interface RootFile {
  /** root-relative, `/`-separated */
  rel: string;
  abs: string;
}

/** Trees of the install root a full backup copies; `.incoming` holds half-written template uploads. */
export const ROOT_TREES = ["templates", "artifacts"] as const;
/**
 * Single files: the cluster secret unseals what the store keeps sealed, the CA (without it daemons
 * re-enroll) and the forwarding secret Velocity and Paper share (without it proxies and backends
 * of restored networks disagree).
 */
export const ROOT_FILES = ["config/security/cluster-secret"] as const;
/** Copied with secrets masked: for reference only, never restored over the live file. */
export const REDACTED_CONFIG = "config/controller.yml";

const SKIP_DIRS = new Set([".incoming"]);

/** Regular files under the trees, sorted; symlinks are never followed (nothing outside the root). */
export function listRootFiles(root: string): RootFile[] {
  const out: RootFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(abs);
      } else if (entry.isFile()) {
        out.push({ rel: relative(root, abs).split(sep).join("/"), abs });
      }
    }
  };
  for (const tree of ROOT_TREES) {
    const dir = join(root, tree);
    if (existsSync(dir) && lstatSync(dir).isDirectory()) walk(dir);
  }
  for (const file of ROOT_FILES) {
    const abs = join(root, file);
    if (existsSync(abs) && lstatSync(abs).isFile()) out.push({ rel: file, abs });
  }
  return out;
}

/** controller.yml with every secret-looking value masked and credentials stripped from URIs. */
export function redactedConfig(root: string): string | null {
  const abs = join(root, REDACTED_CONFIG);
  if (!existsSync(abs)) return null;
  return readFileSync(abs, "utf8")
    .split("\n")
    .map((line) => {
      const m = /^(\s*-?\s*)([A-Za-z0-9_.-]+)(\s*:\s*)(.*)$/.exec(line);
      if (!m || m[4] === "") return line;
      if (SECRET_KEY_PATTERN.test(m[2]!)) return `${m[1]}${m[2]}${m[3]}"***"`;
      return `${m[1]}${m[2]}${m[3]}${redactUri(m[4]!.replace(/^["']|["']$/g, ""))}`;
    })
    .join("\n");
}

/** A bundle path may only name something below the bundle: no absolute paths, no `..`. */
export function isSafeRelative(path: string): boolean {
  if (path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0")) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}
