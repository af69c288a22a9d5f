import { createHash, randomUUID } from "node:crypto";
import {
  type ArtifactChunk,
  type ArtifactHeader,
  ArtifactKind,
  type ErrorReport,
  FetchArtifact,
  FrameErrorCode,
} from "../../wire/index.ts";

const FETCH_TIMEOUT_MS = 120_000;

interface Pending {
  header?: ArtifactHeader;
  chunks: Uint8Array[];
  received: number;
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Artifacts asked of the controller over the link: one FetchArtifact, then one ArtifactHeader and
 * ArtifactChunks in offset order (or an ErrorReport with the request id). The assembled bytes are
 * checked against the header's SHA-256 before anyone sees them.
 */
export class ArtifactFetcher {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly send: (request: FetchArtifact) => boolean) {}

  fetch(kind: ArtifactKind, name: string, version = ""): Promise<Uint8Array> {
    const requestId = randomUUID();
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(requestId, new Error(`fetching ${name} timed out`)),
        FETCH_TIMEOUT_MS,
      );
      this.pending.set(requestId, { chunks: [], received: 0, resolve, reject, timer });
      const sent = this.send(FetchArtifact.create({ requestId, kind, name, version, knownSha256: "" }));
      if (!sent) this.fail(requestId, new Error("not connected to a controller"));
    });
  }

  onHeader(header: ArtifactHeader): void {
    const pending = this.pending.get(header.requestId);
    if (!pending) return;
    pending.header = header;
    if (header.sizeBytes === 0 && !header.upToDate) this.finish(header.requestId);
  }

  onChunk(chunk: ArtifactChunk): void {
    const pending = this.pending.get(chunk.requestId);
    if (!pending?.header) return;
    if (chunk.offset !== pending.received) {
      this.fail(chunk.requestId, new Error(`chunk at ${chunk.offset}, expected ${pending.received}`));
      return;
    }
    pending.chunks.push(chunk.data);
    pending.received += chunk.data.length;
    if (chunk.last) this.finish(chunk.requestId);
  }

  /** True when the error answered one of our requests. */
  onError(error: ErrorReport): boolean {
    if (!this.pending.has(error.requestId)) return false;
    this.fail(error.requestId, new Error(`${FrameErrorCode[error.code]}: ${error.message}`));
    return true;
  }

  /** The stream broke: nothing in flight will be answered. */
  abortAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.fail(id, new Error(reason));
  }

  private finish(requestId: string): void {
    const pending = this.pending.get(requestId)!;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    const bytes = Buffer.concat(pending.chunks);
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (digest !== pending.header?.sha256) {
      pending.reject(new Error(`artifact ${pending.header?.name} arrived corrupted (sha256 ${digest})`));
      return;
    }
    pending.resolve(new Uint8Array(bytes));
  }

  private fail(requestId: string, err: Error): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.reject(err);
  }
}

export { ArtifactKind };
