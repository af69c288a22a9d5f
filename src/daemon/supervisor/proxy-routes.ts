import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { configFormatOf } from "../../core/templates/platform-format.ts";
import {
  PROXY_CONFIGS,
  type ProxyConfigFormat,
  type ProxyRouteTable,
  renderProxyRoutes,
} from "../../core/templates/proxy-routes-config.ts";
import { writeIntoExistingTree } from "../materialize/tree-io.ts";
import type { ManagedInstance } from "./managed-instance.ts";

export interface ProxyRoutesOutcome {
  readonly ok: boolean;
  /** the file changed and the reload command went to the console */
  readonly changed: boolean;
  readonly error?: string;
}

/**
 * Applies a proxy's backend list: reads its config from the instance directory, writes the new
 * servers / try / forced-hosts when they differ, and sends the platform's reload command. A table
 * the file already holds changes nothing (no write, no reload), so the controller can repeat a
 * table as often as it likes. Only RUNNING proxies take routes: a starting one is still reading
 * its config, a stopping one has no use for it.
 */
export async function applyProxyRoutes(
  instance: ManagedInstance | undefined,
  instancesDirectory: string,
  table: ProxyRouteTable,
): Promise<ProxyRoutesOutcome> {
  if (!instance) return { ok: false, changed: false, error: "unknown instance" };
  const state = instance.lifecycle.state;
  if (state !== "RUNNING") return { ok: false, changed: false, error: `instance is ${state}, not RUNNING` };
  const format = proxyFormatOf(instance.plan.runtime.platform);
  if (!format) {
    return { ok: false, changed: false, error: `${instance.plan.runtime.platform} is not a proxy platform` };
  }
  const { file, reloadCommand } = PROXY_CONFIGS[format];
  const dir = join(instancesDirectory, instance.id);
  try {
    const path = join(dir, file);
    const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (info !== undefined && !info.isFile()) throw new Error(`${file} is not a regular file`);
    const before = info === undefined ? "" : await readFile(path, "utf8");
    const after = renderProxyRoutes(format, before, table);
    if (after === undefined) return { ok: true, changed: false };
    await writeIntoExistingTree(dir, file, new TextEncoder().encode(after));
    if (!instance.sendCommand(reloadCommand)) {
      return {
        ok: false,
        changed: true,
        error: "the console is closed; the proxy did not get the reload command",
      };
    }
    return { ok: true, changed: true };
  } catch (err) {
    return { ok: false, changed: false, error: (err as Error).message };
  }
}

function proxyFormatOf(platform: string): ProxyConfigFormat | undefined {
  const format = configFormatOf(platform);
  return format === "VELOCITY" || format === "BUNGEECORD" ? format : undefined;
}
