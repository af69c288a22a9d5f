/**
 * The raw-body caps of the upload routes, in a module of their own so the REST port can be bound
 * with the right server-wide limit before the route modules load (see early-listener.ts).
 */
/** An artifact uploaded into the catalogue. */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;
/** Compressed template upload cap; the unpacked size is capped separately (512 MiB). */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

/** Bun's server-wide cap: above every route's own, so each route's counter answers with the envelope. */
export function earlyBodyLimit(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, MAX_ARTIFACT_BYTES, MAX_UPLOAD_BYTES) + 1024 * 1024;
}
