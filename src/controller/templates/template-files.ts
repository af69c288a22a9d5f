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
import type { TemplateFile } from "../../core/templates/template-file.ts";
import { normalizeTemplatePath } from "../../core/templates/template-path.ts";

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
    try {
      mkdirSync(staging, { recursive: true });
      for (const file of files) {
        const target = join(staging, normalizeTemplatePath(file.path));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, file.bytes);
      }
      mkdirSync(dirname(final), { recursive: true });
      renameSync(staging, final);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    }
  }

  read(name: string, hash: string): TemplateFile[] {
    const base = this.versionDir(name, hash);
    const out: TemplateFile[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.isFile())
          out.push({ path: relative(base, full).split(sep).join("/"), bytes: readFileSync(full) });
      }
    };
    if (existsSync(base)) walk(base);
    return out;
  }

  list(name: string, hash: string): Array<{ path: string; sizeBytes: number }> {
    const base = this.versionDir(name, hash);
    return this.read(name, hash).map((f) => ({ path: f.path, sizeBytes: statSync(join(base, f.path)).size }));
  }

  removeVersion(name: string, hash: string): void {
    rmSync(this.versionDir(name, hash), { recursive: true, force: true });
  }

  removeTemplate(name: string): void {
    rmSync(join(this.root, name), { recursive: true, force: true });
  }
}
