import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isResourceName } from "../../core/names.ts";
import type { Logger } from "../../log/logger.ts";
import { ARTIFACT_CHUNK_BYTES, ArtifactKind, type FetchArtifact, FrameErrorCode } from "../../wire/index.ts";
import { encodeLayerBundle } from "../../wire/layer-bundle.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { TemplateFiles } from "../templates/template-files.ts";

const SHA256 = /^[0-9a-f]{64}$/;
// The name becomes a path on this controller's disk: template names only, nothing like `../`.

/**
 * Answers a daemon's FetchArtifact on its own stream: template layers at exactly the content hash
 * the plan pinned (never "the current version"), and controller-served runtime jars by digest.
 * Unavailable content is an ErrorReport with the request id, so the start fails with
 * TEMPLATE_APPLY_FAILED instead of materialising something else.
 */
export class ArtifactServer {
  constructor(
    private readonly deps: {
      sessions: SessionRegistry;
      templateFiles: TemplateFiles;
      artifactDir: string;
      log: Logger;
    },
  ) {}

  handle(nodeId: string, request: FetchArtifact): void {
    const bytes = this.load(request);
    const { sessions } = this.deps;
    if (!bytes) {
      this.deps.log.warn(
        { nodeId, kind: ArtifactKind[request.kind], name: request.name, version: request.version },
        "artifact unavailable",
      );
      sessions.send(nodeId, {
        case: "error",
        value: {
          code: FrameErrorCode.ARTIFACT_UNAVAILABLE,
          message: `${ArtifactKind[request.kind]} ${request.name}@${request.version} is not available`,
          requestId: request.requestId,
          instanceId: "",
          details: {},
          retryAfterSeconds: 0,
        },
      });
      return;
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const upToDate = request.knownSha256 !== "" && request.knownSha256 === sha256;
    sessions.send(nodeId, {
      case: "artifactHeader",
      value: {
        requestId: request.requestId,
        kind: request.kind,
        name: request.name,
        sha256,
        sizeBytes: bytes.length,
        upToDate,
      },
    });
    if (upToDate) return;
    let offset = 0;
    do {
      const data = bytes.subarray(offset, offset + ARTIFACT_CHUNK_BYTES);
      const last = offset + data.length >= bytes.length;
      sessions.send(nodeId, {
        case: "artifactChunk",
        value: { requestId: request.requestId, offset, data, last },
      });
      offset += data.length;
    } while (offset < bytes.length);
  }

  private load(request: FetchArtifact): Uint8Array | null {
    if (request.kind === ArtifactKind.TEMPLATE) {
      const { templateFiles } = this.deps;
      if (!isResourceName(request.name)) return null;
      if (request.version !== "" && !SHA256.test(request.version)) return null;
      if (request.version !== "" && !templateFiles.has(request.name, request.version)) return null;
      return encodeLayerBundle(templateFiles.read(request.name, request.version));
    }
    if (request.kind === ArtifactKind.RUNTIME) {
      if (!SHA256.test(request.name)) return null;
      const file = join(this.deps.artifactDir, request.name);
      return existsSync(file) ? readFileSync(file) : null;
    }
    return null;
  }
}
