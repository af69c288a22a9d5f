import type { ArtifactSource } from "./artifact-cache.ts";

/** An artifact served over http(s), streamed; a non-2xx answer is an error, not content. */
export function httpArtifactSource(
  url: string,
  options: { fetch?: typeof fetch; headers?: Record<string, string>; signal?: AbortSignal } = {},
): ArtifactSource {
  const protocol = new URL(url).protocol;
  if (protocol !== "http:" && protocol !== "https:") throw new Error(`unsupported artifact URL ${url}`);
  const fetchImpl = options.fetch ?? fetch;
  return async () => {
    const response = await fetchImpl(url, {
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || response.body === null) {
      throw new Error(`GET ${url}: HTTP ${response.status}`);
    }
    return response.body;
  };
}

/**
 * An artifact the controller sends in chunks over the daemon stream (the link yields each
 * ArtifactChunk's bytes in offset order), or bytes already in memory.
 */
export function chunkedArtifactSource(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | (() => AsyncIterable<Uint8Array>),
): ArtifactSource {
  return async () => {
    const iterable = typeof chunks === "function" ? chunks() : chunks;
    return toAsync(iterable);
  };
}

async function* toAsync(
  iterable: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  yield* iterable;
}
