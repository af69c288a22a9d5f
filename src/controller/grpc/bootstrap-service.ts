import { type CallContext, ServerError, type ServiceImplementation, Status } from "nice-grpc";
import type { Coordination } from "../../coord/port.ts";
import { isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import {
  type BootstrapServiceDefinition,
  MIN_SUPPORTED_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type RedeemJoinTokenRequest,
  RedeemJoinTokenResponse,
} from "../../wire/index.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { CertRevocations } from "../nodes/cert-revocations.ts";
import { JoinTokenRefusal, type JoinTokenService } from "../nodes/join-tokens.ts";
import type { NodeService } from "../nodes/node-service.ts";
import { type ClusterCa, isValidNodeId, normalizeSerialHex, signNodeCsr } from "../pki/index.ts";
import { peerHost } from "./transport-guard.ts";

export interface BootstrapDeps {
  ca: ClusterCa;
  clusterId: string;
  joinTokens: JoinTokenService;
  nodes: NodeService;
  revocations: CertRevocations;
  audit: AuditLog;
  coord: Coordination;
  log: Logger;
  controllerGrpcAddrs: string[];
  /** every live controller's advertised gRPC addresses: a node learns them at enrolment already */
  controllerDirectory?: () => Promise<string[]>;
  /** redeem attempts per minute per source address; slows token guessing to a crawl */
  attemptsPerMinute?: number;
  now?: () => Date;
}

/** The one message for every token problem, so the RPC cannot be used to probe tokens. */
export const TOKEN_REFUSED = "Invalid, expired, revoked or already used join token";

/**
 * Enrolment. Order matters: everything that can fail for reasons other than the token (protocol,
 * node id, an already enrolled node, a bad CSR) is checked before the token is consumed, so a
 * daemon with a typo in its config does not burn the operator's token.
 */
export function bootstrapService(
  deps: BootstrapDeps,
): ServiceImplementation<typeof BootstrapServiceDefinition> {
  const log = deps.log.child({ service: "bootstrap" });
  return {
    async getClusterCa() {
      return { caCertificatePem: deps.ca.certificatePem, sha256Fingerprint: deps.ca.fingerprint };
    },

    async redeemJoinToken(request: RedeemJoinTokenRequest, context: CallContext) {
      const from = peerHost(context.peer);
      const limit = await deps.coord
        .hitRateLimit("enrol", from, deps.attemptsPerMinute ?? 30, 60_000)
        .catch(() => ({ allowed: true }));
      if (!limit.allowed) {
        log.warn({ peer: from }, "enrolment refused: too many attempts from this address");
        throw new ServerError(Status.RESOURCE_EXHAUSTED, "Too many enrolment attempts; wait a minute");
      }
      const version = request.protocolVersion;
      if (version < MIN_SUPPORTED_PROTOCOL_VERSION || version > PROTOCOL_VERSION) {
        log.warn({ peer: from, daemonProtocol: version }, "enrolment refused: unsupported protocol version");
        throw new ServerError(
          Status.FAILED_PRECONDITION,
          `Unsupported daemon protocol version: ${version} (this controller speaks ${PROTOCOL_VERSION})`,
        );
      }

      let token: Awaited<ReturnType<JoinTokenService["check"]>>;
      try {
        token = await deps.joinTokens.check(request.joinToken);
      } catch (err) {
        throw refusal(err, from, request.requestedNodeId, log);
      }
      const nodeId = token.nodeId ?? request.requestedNodeId;
      if (token.nodeId !== null && request.requestedNodeId !== token.nodeId) {
        log.warn(
          { peer: from, tokenId: token._id, requested: request.requestedNodeId },
          "enrolment refused: token is for another node",
        );
        throw new ServerError(
          Status.INVALID_ARGUMENT,
          `This join token is for node "${token.nodeId}"; start the daemon with that node id`,
        );
      }
      if (!isValidNodeId(nodeId)) {
        throw new ServerError(
          Status.INVALID_ARGUMENT,
          `Invalid node id "${nodeId}": use letters, digits, '-' and '.'`,
        );
      }
      const now = deps.now?.() ?? new Date();
      const existing = await deps.nodes.get(nodeId);
      if (
        existing &&
        !existing.certRevoked &&
        (existing.connected || existing.certNotAfter > now.getTime())
      ) {
        log.warn({ peer: from, nodeId, tokenId: token._id }, "enrolment refused: node id already enrolled");
        throw new ServerError(
          Status.ALREADY_EXISTS,
          `Node "${nodeId}" is already enrolled; revoke its certificate first to enrol it again`,
        );
      }

      let issued: Awaited<ReturnType<typeof signNodeCsr>>;
      try {
        issued = await signNodeCsr(deps.ca, { nodeId, csr: request.csrDer, now });
      } catch (err) {
        log.warn({ peer: from, nodeId, err }, "enrolment refused: bad CSR");
        throw new ServerError(Status.INVALID_ARGUMENT, (err as Error).message);
      }

      try {
        await deps.joinTokens.consume(token, nodeId, from);
      } catch (err) {
        throw refusal(err, from, nodeId, log);
      }
      const serial = normalizeSerialHex(issued.serialNumber);
      await deps.nodes.recordEnrollment(nodeId, {
        serial,
        notAfter: issued.notAfter.getTime(),
        daemonVersion: request.daemonVersion,
      });
      await deps.revocations.forgetCommonName(nodeId);
      await deps.audit.record({
        actor: `join-token:${token._id}`,
        action: "node.enroll",
        resourceType: "node",
        resourceId: nodeId,
        after: { certSerial: serial, certNotAfter: issued.notAfter.toISOString() },
        details: { tokenId: token._id, daemonVersion: request.daemonVersion },
        ip: from,
        requestId: crypto.randomUUID(),
      });
      log.info({ nodeId, peer: from, tokenId: token._id, serial }, "node enrolled");
      return RedeemJoinTokenResponse.create({
        nodeId,
        certificateChainPem: issued.certificatePem,
        caCertificatePem: deps.ca.certificatePem,
        certificateNotAfterMs: issued.notAfter.getTime(),
        clusterId: deps.clusterId,
        controllerGrpcAddrs: await enrolmentAddrs(deps),
      });
    },
  };
}

/**
 * Handed to a node at enrolment and kept with its identity, so a daemon whose first controller dies
 * before its first HelloAck still knows where the others are.
 */
async function enrolmentAddrs(deps: BootstrapDeps): Promise<string[]> {
  if (!deps.controllerDirectory) return deps.controllerGrpcAddrs;
  try {
    return [...new Set([...deps.controllerGrpcAddrs, ...(await deps.controllerDirectory())])];
  } catch {
    return deps.controllerGrpcAddrs; // coordination down: the configured endpoints remain
  }
}

function refusal(err: unknown, from: string, nodeId: string, log: Logger): ServerError {
  if (err instanceof JoinTokenRefusal) {
    log.warn(
      { peer: from, nodeId, tokenId: err.tokenId, reason: err.reason },
      `enrolment refused: join token ${err.reason}`,
    );
    return new ServerError(Status.UNAUTHENTICATED, TOKEN_REFUSED);
  }
  log.error({ peer: from, nodeId, err }, "enrolment failed");
  return new ServerError(Status.INTERNAL, isAppError(err) ? err.message : "enrolment failed");
}
