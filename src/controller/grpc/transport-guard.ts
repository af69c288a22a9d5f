import { TLSSocket } from "node:tls";
import {
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "../../log/logger.ts";
import { CidrSet } from "../http/client-address.ts";
import type { PeerRefusal } from "../pki/index.ts";

/** `1.2.3.4:5678` or `::ffff:1.2.3.4:5678` (grpc-js' getPeer) → the address part. */
export function peerHost(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const at = peer.lastIndexOf(":");
  return at > 0 && /^\d+$/.test(peer.slice(at + 1)) ? peer.slice(0, at) : peer;
}

/**
 * `network.allowedSubnets` for the gRPC listener (the REST guard's twin). Runs before identity so a
 * caller from outside the allow-list learns nothing else.
 */
export function subnetGuard(allowedSubnets: string[], log: Logger): ServerInterceptor {
  const allowed = new CidrSet(allowedSubnets);
  return (method, call) => {
    const address = peerHost(call.getPeer());
    const refused = !allowed.contains(address);
    if (refused)
      log.warn(
        { peer: call.getPeer(), method: method.path },
        "gRPC call refused: address not in network.allowedSubnets",
      );
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            if (refused) {
              call.sendStatus({
                code: status.PERMISSION_DENIED,
                details: "address not in network.allowedSubnets",
              });
              return;
            }
            nextMetadata(metadata);
          },
        });
      },
    });
  };
}

/**
 * What the client presented when the TLS layer did not verify it, for the log only: grpc-js exposes
 * verified certificates alone, so this reaches the socket through grpc-js internals and degrades to
 * "unknown" if they change. Never used for a security decision.
 */
export function describeUnverifiedPeer(call: ServerInterceptingCallInterface): string {
  try {
    let cursor: unknown = call;
    for (let depth = 0; depth < 8 && cursor && typeof cursor === "object"; depth++) {
      const socket = (cursor as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket;
      if (socket instanceof TLSSocket) {
        const certificate = socket.getPeerCertificate();
        if (!certificate || Object.keys(certificate).length === 0) return "no client certificate presented";
        const issuer = certificate.issuer?.CN ?? "unknown issuer";
        const error = (socket as TLSSocket & { authorizationError?: unknown }).authorizationError;
        return `client certificate not issued by the cluster CA (issuer "${String(issuer)}"${error ? `, ${String(error)}` : ""})`;
      }
      cursor =
        (cursor as { nextCall?: unknown; call?: unknown }).nextCall ?? (cursor as { call?: unknown }).call;
    }
  } catch {
    // fall through
  }
  return "no verified client certificate";
}

/** Logs each refusal of the identity interceptor with the reason and who it was. */
export function logRefusal(log: Logger) {
  return (refusal: PeerRefusal) => {
    const detail = refusal.identity
      ? { node: refusal.identity.commonName, serial: refusal.identity.serialNumber }
      : { detail: describeUnverifiedPeer(refusal.call) };
    log.warn(
      { peer: refusal.call.getPeer(), method: refusal.path, ...detail },
      `gRPC call refused: ${refusal.reason}`,
    );
  };
}
