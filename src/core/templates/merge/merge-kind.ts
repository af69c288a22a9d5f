/** How a file that already exists from a lower layer is combined with the higher layer's copy. */
export type MergeKind = "yaml" | "json" | "toml" | "properties" | "lines" | "replace";

const KIND_BY_EXTENSION: Readonly<Record<string, MergeKind>> = {
  yml: "yaml",
  yaml: "yaml",
  json: "json",
  toml: "toml",
  properties: "properties",
  txt: "lines",
  cfg: "lines",
  conf: "lines",
  ini: "lines",
  list: "lines",
};

/** Chosen by extension (case-insensitive); anything unlisted, jars and other binaries included, is replaced. */
export function mergeKindForPath(path: string): MergeKind {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "replace";
  return KIND_BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? "replace";
}
