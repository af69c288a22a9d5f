import { AppError } from "../../errors.ts";
import type { TemplateFileMap, TemplateLayerFiles } from "../template-file.ts";
import { compareTemplatePaths } from "../template-hash.ts";
import { normalizeTemplatePath } from "../template-path.ts";
import { mergeFileContents } from "./merge-file.ts";

/** A config file that had to be taken whole from a higher layer; the daemon logs these. */
export interface MergeFallback {
  readonly path: string;
  readonly layer: string;
  readonly reason: "binary" | "unparseable";
}

export interface MergedTemplate {
  readonly files: TemplateFileMap;
  readonly fallbacks: readonly MergeFallback[];
}

/**
 * Applies the layers lowest first: a path new to the result is copied, a path that already exists is
 * merged by its file type (see `mergeFileContents`). Directory trees union. The result iterates in
 * sorted path order so that anything derived from it is deterministic.
 */
export function mergeTemplateLayers(layers: readonly TemplateLayerFiles[]): MergedTemplate {
  const files = new Map<string, Uint8Array>();
  const fallbacks: MergeFallback[] = [];
  for (const layer of layers) {
    const seenInLayer = new Set<string>();
    for (const file of layer.files) {
      const path = normalizeTemplatePath(file.path);
      if (seenInLayer.has(path)) {
        throw new AppError("INVALID_ARGUMENT", `template ${layer.name} lists ${path} twice`, {
          template: layer.name,
          path,
        });
      }
      seenInLayer.add(path);
      const lower = files.get(path);
      if (lower === undefined) {
        files.set(path, file.bytes);
        continue;
      }
      const outcome = mergeFileContents(path, lower, file.bytes);
      files.set(path, outcome.bytes);
      if (outcome.fallback) fallbacks.push({ path, layer: layer.name, reason: outcome.fallback });
    }
  }
  const sorted = new Map([...files].sort(([a], [b]) => compareTemplatePaths(a, b)));
  return { files: sorted, fallbacks };
}
