import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * A controller's identity (lease holder id). Taken from config when set, else generated once and
 * kept beside the data so restarts keep it; we never rewrite the operator's controller.yml.
 */
export function resolveControllerId(configured: string, file: string): string {
  if (configured.trim() !== "") return configured.trim();
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    if (/^[A-Za-z0-9._-]{1,64}$/.test(saved)) return saved;
  }
  const id = crypto.randomUUID();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
