import type { PeerCertificate } from "node:tls";
import {
  type Metadata as GrpcMetadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from "@grpc/grpc-js";
import { normalizeSerialHex } from "./serial.ts";

/**
 * Client-certificate identity for gRPC handlers.
 *
 * nice-grpc's CallContext only exposes the peer address, so the certificate is read where grpc-js
 * still has the call: a grpc-js server interceptor (`createServer({ interceptors: [...] })`, which
 * nice-grpc passes through to grpc-js) calls `call.getAuthContext().sslPeerCertificate`, enforces
 * that a verified certificate is present, and hands the identity to the handler as request metadata
 * under reserved keys. Values a client sent under those keys are removed first, so they cannot be
 * forged. Verified on Bun 1.4.5 with @grpc/grpc-js 1.14.7.
 */
export const PEER_CN_METADATA_KEY = "x-prexor-peer-cn";
export const PEER_SERIAL_METADATA_KEY = "x-prexor-peer-serial";

export interface PeerIdentity {
  /** Subject CN of the client certificate; for a daemon, its node id. */
  readonly commonName: string;
  /** Lowercase hex serial without leading zero bytes, the key used for revocation. */
  readonly serialNumber: string;
}

export interface PeerIdentityOptions {
  /**
   * Fully qualified services reachable without a client certificate (BootstrapService: an enrolling
   * daemon has none yet). The listener must then be created with client certificates optional
   * (`ServerCredentials.createSsl(ca, keys, false)`); this interceptor becomes the enforcement.
   */
  readonly exemptServices?: readonly string[];
  /** Refuse certificates revoked by serial or CN; consulted on every call. */
  readonly isRevoked?: (identity: PeerIdentity) => boolean;
  /** Told about every refusal (for the log); `call` lets the caller inspect the peer further. */
  readonly onRefused?: (refusal: PeerRefusal) => void;
}

export interface PeerRefusal {
  /** the message sent to the client */
  readonly reason: string;
  /** fully qualified method path, e.g. `/prexor.v1.DaemonService/Connect` */
  readonly path: string;
  readonly identity: PeerIdentity | undefined;
  readonly call: ServerInterceptingCallInterface;
}

/** Reads the identity from an authenticated TLS peer certificate, if there is one. */
export function identityFromCertificate(certificate: PeerCertificate | undefined): PeerIdentity | undefined {
  if (!certificate?.raw) return undefined;
  const cn = certificate.subject?.CN;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  if (!commonName) return undefined;
  return { commonName, serialNumber: normalizeSerialHex(certificate.serialNumber) };
}

export function createPeerIdentityInterceptor(options: PeerIdentityOptions = {}): ServerInterceptor {
  const exempt = new Set(options.exemptServices ?? []);
  return (method, call) => {
    const isExempt = exempt.has(method.path.split("/")[1] ?? "");
    // Exempt services get no identity (they must not depend on one), which also spares their calls
    // the certificate lookup. grpc-js only fills sslPeerCertificate when the handshake verified it.
    const identity = isExempt ? undefined : identityFromCertificate(call.getAuthContext().sslPeerCertificate);
    const refusal = isExempt ? undefined : refuse(identity, options);
    if (refusal) {
      try {
        options.onRefused?.({ reason: refusal, path: method.path, identity, call });
      } catch {
        // Logging must never turn a refusal into a crash.
      }
    }

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata: GrpcMetadata, nextMetadata) {
            metadata.remove(PEER_CN_METADATA_KEY);
            metadata.remove(PEER_SERIAL_METADATA_KEY);
            if (refusal) {
              call.sendStatus({ code: status.UNAUTHENTICATED, details: refusal });
              return;
            }
            if (identity) {
              metadata.set(PEER_CN_METADATA_KEY, identity.commonName);
              metadata.set(PEER_SERIAL_METADATA_KEY, identity.serialNumber);
            }
            nextMetadata(metadata);
          },
        });
      },
    });
  };
}

function refuse(identity: PeerIdentity | undefined, options: PeerIdentityOptions): string | undefined {
  if (!identity) return "Client certificate required; enrol with BootstrapService first";
  let revoked: boolean;
  try {
    revoked = options.isRevoked?.(identity) ?? false;
  } catch {
    // A failing revocation check must fail closed.
    revoked = true;
  }
  if (revoked) return "Client certificate revoked";
  return undefined;
}

/** The identity the interceptor attached, as seen from a nice-grpc handler's `context.metadata`. */
export function peerIdentityFromMetadata(metadata: {
  get(key: string): string | Uint8Array | undefined;
}): PeerIdentity | undefined {
  const commonName = metadata.get(PEER_CN_METADATA_KEY);
  const serialNumber = metadata.get(PEER_SERIAL_METADATA_KEY);
  if (typeof commonName !== "string" || typeof serialNumber !== "string") return undefined;
  return { commonName, serialNumber };
}
