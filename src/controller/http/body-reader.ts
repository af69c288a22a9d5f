import { AppError } from "../../core/errors.ts";

/**
 * Reads a request body up to a cap, counting as it goes: a chunked upload without a
 * Content-Length cannot smuggle more than the cap into memory.
 */
export async function readBodyCapped(
  request: Request,
  maxBytes: number,
  options: {
    allowEmpty?: boolean;
    /** sees each chunk first; throws to refuse the body */
    onChunk?: (chunk: Uint8Array) => void;
  } = {},
): Promise<Uint8Array> {
  if (!request.body) {
    if (options.allowEmpty) return new Uint8Array(0);
    throw new AppError("BAD_REQUEST", "a request body is required");
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // The client gets its 413 either way; a failed cancel only means the socket is already gone.
      await reader.cancel().catch(() => {});
      throw new AppError(
        "PAYLOAD_TOO_LARGE",
        `request bodies on this route are limited to ${maxBytes} bytes`,
        {
          maxBytes,
        },
      );
    }
    if (options.onChunk) {
      try {
        options.onChunk(value);
      } catch (err) {
        // Refused mid-stream: stop reading; a failed cancel only means the socket is already gone.
        await reader.cancel().catch(() => {});
        throw err;
      }
    }
    chunks.push(value);
  }
  if (size === 0 && !options.allowEmpty) throw new AppError("BAD_REQUEST", "a request body is required");
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
