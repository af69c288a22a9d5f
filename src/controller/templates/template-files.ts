import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { AppError } from "../../core/errors.ts";
import type { TemplateFile } from "../../core/templates/template-file.ts";
import { normalizeTemplatePath } from "../../core/templates/template-path.ts";

/** Filesystem refusals an entry's own name or shape causes: the client's fault, named. */
const ENTRY_FAULTS = new Set(["EEXIST", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "EINVAL", "EILSEQ"]);

function entryError(err: unknown, entry: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (entry === "" || code === undefined || !ENTRY_FAULTS.has(code)) return err;
  return new AppError(
    "INVALID_ARGUMENT",
    `archive refused: cannot write ${JSON.stringify(entry.slice(0, 200))} (${code})`,
    {
      path: entry.slice(0, 200),
      reason: code,
    },
  );
}

/**
 * Template versions on the controller's disk: `templates/<name>/<hash>/…`. A version directory
 * appears whole or not at all (written under a temporary name, then renamed), and is never
 * modified afterwards: the hash names its content.
 */
export class TemplateFiles {
  constructor(private readonly root: string) {}

  versionDir(name: string, hash: string): string {
    return join(this.root, name, hash || "empty");
  }

  has(name: string, hash: string): boolean {
    return existsSync(this.versionDir(name, hash));
  }

  write(name: string, hash: string, files: readonly TemplateFile[]): void {
    const final = this.versionDir(name, hash);
    if (existsSync(final)) return;
    const staging = join(this.root, ".incoming", `${name}-${crypto.randomUUID()}`);
    let current = "";
    try {
      mkdirSync(staging, { recursive: true });
      for (const file of files) {
        current = file.path;
        const target = join(staging, normalizeTemplatePath(file.path));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, file.bytes);
      }
      current = "";
      mkdirSync(dirname(final), { recursive: true });
      renameSync(staging, final);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw entryError(err, current);
    }
  }

  read(name: string, hash: string): TemplateFile[] {
    const base = this.versionDir(name, hash);
    return this.walk(base).map((path) => ({ path, bytes: readFileSync(join(base, path)) }));
  }

  /** Paths and sizes only: listing a version never reads its contents. */
  list(name: string, hash: string): Array<{ path: string; sizeBytes: number }> {
    const base = this.versionDir(name, hash);
    return this.walk(base).map((path) => ({ path, sizeBytes: statSync(join(base, path)).size }));
  }

  private walk(base: string): string[] {
    const out: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) visit(full);
        else if (entry.isFile()) out.push(relative(base, full).split(sep).join("/"));
      }
    };
    if (existsSync(base)) visit(base);
    return out;
  }

  removeVersion(name: string, hash: string): void {
    rmSync(this.versionDir(name, hash), { recursive: true, force: true });
  }

  removeTemplate(name: string): void {
    rmSync(join(this.root, name), { recursive: true, force: true });
  }
}
