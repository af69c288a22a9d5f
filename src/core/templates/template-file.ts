/** One file of a template layer: a relative `/`-separated path and its exact bytes. */
export interface TemplateFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** A named layer of the composition chain with the files it contributes. */
export interface TemplateLayerFiles {
  readonly name: string;
  readonly files: readonly TemplateFile[];
}

/** Materialized output of the chain: normalized path → bytes, iterated in sorted path order. */
export type TemplateFileMap = ReadonlyMap<string, Uint8Array>;
