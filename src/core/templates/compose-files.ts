import { type MergedTemplate, mergeTemplateLayers } from "./merge/merge-layers.ts";
import { ALL_PLACEHOLDER_SYNTAXES, type PlaceholderSyntax, substituteFileBytes } from "./substitute.ts";
import type { TemplateLayerFiles } from "./template-file.ts";

/**
 * The files an instance directory receives from its chain of (hash-verified) layers.
 *
 * Placeholders are substituted in each layer before the merge, not after: an unquoted placeholder is not
 * valid YAML/JSON/TOML (`port: %PORT%`) or means something else (`port: {PORT}` is a YAML flow map), so
 * merging first would make the parsers reject or reshape exactly the lines that need substituting. With
 * real values in place the parsers see ordinary scalars. The final text is the same either way for files
 * that are not re-serialized, since a merge only rearranges lines the layers already contain.
 */
export function composeTemplateFiles(
  layers: readonly TemplateLayerFiles[],
  values: Readonly<Record<string, string>>,
  syntaxes: readonly PlaceholderSyntax[] = ALL_PLACEHOLDER_SYNTAXES,
): MergedTemplate {
  const substituted = layers.map(
    (layer): TemplateLayerFiles => ({
      name: layer.name,
      files: layer.files.map((file) => ({
        path: file.path,
        bytes: substituteFileBytes(file.bytes, values, syntaxes),
      })),
    }),
  );
  return mergeTemplateLayers(substituted);
}
