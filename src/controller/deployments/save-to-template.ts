import { AppError } from "../../core/errors.ts";
import type { InstanceDoc } from "../instances/instance-doc.ts";
import { fileStatusError, type InstanceFiles } from "../instances/instance-files.ts";
import type { TemplateService, TemplateVersion } from "../templates/template-service.ts";

/** Text config files (spec 10 §3.3's substitution set plus .ini): what deploy-back copies. */
const TEXT_CONFIG = [".properties", ".yml", ".yaml", ".toml", ".json", ".cfg", ".conf", ".txt", ".ini"];
/** World data, logs and caches are never configuration, whatever their file names. */
const SKIPPED_TOP = new Set([
  "world",
  "world_nether",
  "world_the_end",
  "logs",
  "cache",
  "libraries",
  "crash-reports",
  "versions",
]);
const MAX_FILES = 500;
const MAX_FILE_BYTES = 1024 * 1024;

export interface SavedToTemplate {
  instanceId: string;
  template: string;
  version: TemplateVersion;
  created: boolean;
  files: string[];
  /** text files left out (too large, or over the file cap) */
  skipped: string[];
}

function isConfig(path: string): boolean {
  const top = path.split("/")[0] ?? "";
  if (top.startsWith(".") || SKIPPED_TOP.has(top)) return false;
  const lower = path.toLowerCase();
  return TEXT_CONFIG.some((ext) => lower.endsWith(ext));
}

/**
 * Deploy-back: a running instance's text config files, read from its node, become a new version of
 * `template`, laid over the version the instance was built from (so files it lacks are kept). Rolling the group to
 * it is then an ordinary `deploy`.
 */
export async function saveToTemplate(
  deps: {
    instances: { require(id: string): Promise<InstanceDoc> };
    files: InstanceFiles;
    templates: TemplateService;
    /** the version of `template` the instance's plan was built from, when it had that layer */
    planLayerHash?(instanceId: string, template: string): Promise<string | undefined>;
  },
  instanceId: string,
  template: string,
  actor: string,
): Promise<SavedToTemplate> {
  const doc = await deps.instances.require(instanceId);
  if (doc.state !== "RUNNING" && doc.state !== "DRAINING")
    throw new AppError(
      "CONFLICT",
      `instance "${instanceId}" is ${doc.state}: only a running instance can be saved`,
      {
        state: doc.state,
      },
    );
  await deps.templates.get(template);
  const tree = await deps.files.walk(doc.node, {
    group: doc.group,
    instanceId,
    maxEntries: 0,
    maxDepth: 0,
    summarizeThreshold: 0,
  });
  const refused = fileStatusError(tree.status, `listing ${instanceId}`);
  if (refused) throw refused;
  const wanted = tree.entries.filter((e) => !e.isDir && isConfig(e.path));
  const skipped: string[] = [];
  const files: Array<{ path: string; bytes: Uint8Array }> = [];
  for (const entry of wanted) {
    if (files.length >= MAX_FILES || Number(entry.sizeBytes) > MAX_FILE_BYTES) {
      skipped.push(entry.path);
      continue;
    }
    const content = await deps.files.read(doc.node, {
      group: doc.group,
      instanceId,
      path: entry.path,
      maxBytes: MAX_FILE_BYTES,
      tail: false,
    });
    if (content.status !== 0 || content.truncated) {
      skipped.push(entry.path);
      continue;
    }
    files.push({ path: entry.path, bytes: content.content });
  }
  if (files.length === 0)
    throw new AppError("BAD_REQUEST", `instance "${instanceId}" has no text config files to save`);
  // Laid over what the instance was built from, not over whatever is current now.
  const base = await deps.planLayerHash?.(instanceId, template);
  const { version, created } = await deps.templates.saveFiles(template, files, actor, base);
  return { instanceId, template, version, created, files: files.map((f) => f.path), skipped };
}
