/** A layer's files do not hash to the hash the plan pinned: fetched wrong, or the cache was altered. */
export class LayerIntegrityError extends Error {
  readonly layer: string;
  readonly expectedHash: string;
  readonly actualHash: string;

  constructor(layer: string, expectedHash: string, actualHash: string, where: "fetched" | "cached") {
    super(
      `template layer ${layer}: ${where} files hash to ${actualHash || "<empty>"}, plan expects ${expectedHash || "<empty>"}`,
    );
    this.name = "LayerIntegrityError";
    this.layer = layer;
    this.expectedHash = expectedHash;
    this.actualHash = actualHash;
  }
}

/** A layer could not be obtained at the requested hash (never substitute a stale one). */
export class LayerUnavailableError extends Error {
  readonly layer: string;
  readonly hash: string;

  constructor(layer: string, hash: string, cause: unknown) {
    super(
      `template layer ${layer} at ${hash} is unavailable: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
      },
    );
    this.name = "LayerUnavailableError";
    this.layer = layer;
    this.hash = hash;
  }
}
