import { ClientError, createClient, Status } from "nice-grpc";
import type { Logger } from "../log/logger.ts";
import { BootstrapServiceDefinition, PROTOCOL_VERSION, type RedeemJoinTokenResponse } from "../wire/index.ts";
import { caMatchesPin, parseJoinToken } from "../wire/join-token.ts";
import { x509 } from "../x509/x509.ts";
import { type NodeIdentity, saveIdentity, saveKey } from "./identity-store.ts";
import { enrolmentChannel, unverifiedChannel } from "./link/channel.ts";
import { createNodeKeyAndCsr } from "./pki/csr.ts";

/** Enrolment failed for a reason the operator must act on; the message says what to do. */
export class EnrollmentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EnrollmentError";
  }
}

export interface EnrollOptions {
  /** controller gRPC address, host:port */
  address: string;
  joinToken: string;
  nodeId: string;
  /** where the identity is stored (security.certificateDir) */
  certificateDir: string;
  daemonVersion: string;
  log: Logger;
  timeoutMs?: number;
}

/**
 * Turns a join token into this node's mTLS identity:
 * 1. fetch the cluster CA over an unverified TLS channel and check it against the pin inside the
 *    token (a wrong address or an interceptor is caught here, before the token is sent);
 * 2. generate the node key locally and write it (0600) — it never leaves this host;
 * 3. redeem the token with a CSR over TLS verified with that CA;
 * 4. check the certificate (issued by the CA, for our key and node id) and store it.
 */
export async function enroll(options: EnrollOptions): Promise<NodeIdentity> {
  const { address, joinToken, nodeId, log } = options;
  const parsed = parseJoinToken(joinToken.trim());
  if (!parsed) {
    throw new EnrollmentError(
      "the join token is not a PrexorCloud join token (pxr_…); copy it again from `prexorctl token create`",
    );
  }
  const timeoutMs = options.timeoutMs ?? 15_000;

  const caPem = await fetchClusterCa(address, timeoutMs);
  const ca = new x509.X509Certificate(caPem);
  const fingerprint = new Bun.CryptoHasher("sha256").update(new Uint8Array(ca.rawData)).digest("hex");
  if (!caMatchesPin(fingerprint, parsed.caPin)) {
    throw new EnrollmentError(
      `the controller at ${address} presented a cluster CA (sha256 ${fingerprint.slice(0, 16)}…) that does ` +
        "not match the join token; the token was not sent. Check the address, or suspect interception",
    );
  }

  const { privateKeyPem, csrDer } = await createNodeKeyAndCsr(nodeId);
  saveKey(options.certificateDir, privateKeyPem);

  const channel = enrolmentChannel(address, caPem);
  let response: RedeemJoinTokenResponse;
  try {
    response = await createClient(BootstrapServiceDefinition, channel).redeemJoinToken(
      {
        joinToken: joinToken.trim(),
        requestedNodeId: nodeId,
        csrDer,
        protocolVersion: PROTOCOL_VERSION,
        daemonVersion: options.daemonVersion,
      },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
  } catch (err) {
    throw explainRedeemFailure(err, address);
  } finally {
    channel.close();
  }

  const certificate = new x509.X509Certificate(response.certificateChainPem);
  const csr = new x509.Pkcs10CertificateRequest(csrDer);
  const ourKey = Buffer.from(csr.publicKey.rawData).equals(Buffer.from(certificate.publicKey.rawData));
  const fromCa = await certificate.verify({ publicKey: ca.publicKey, signatureOnly: true });
  if (!ourKey || !fromCa || certificate.subjectName.getField("CN")[0] !== response.nodeId) {
    throw new EnrollmentError(
      "the controller returned a certificate that is not for this node's key; not stored",
    );
  }

  const identity: NodeIdentity = {
    nodeId: response.nodeId,
    clusterId: response.clusterId,
    caCertificatePem: caPem,
    certificatePem: response.certificateChainPem,
    privateKeyPem,
    certificateNotAfterMs: response.certificateNotAfterMs,
    controllerGrpcAddrs: response.controllerGrpcAddrs,
    enrolledAt: new Date().toISOString(),
  };
  saveIdentity(options.certificateDir, identity);
  log.info(
    { nodeId: identity.nodeId, clusterId: identity.clusterId, caFingerprint: fingerprint },
    "enrolled: node certificate stored",
  );
  return identity;
}

async function fetchClusterCa(address: string, timeoutMs: number): Promise<string> {
  const channel = unverifiedChannel(address);
  try {
    const response = await createClient(BootstrapServiceDefinition, channel).getClusterCa(
      {},
      { signal: AbortSignal.timeout(timeoutMs) },
    );
    return response.caCertificatePem;
  } catch (err) {
    throw new EnrollmentError(`cannot reach the controller at ${address}: ${describe(err)}`, { cause: err });
  } finally {
    channel.close();
  }
}

function explainRedeemFailure(err: unknown, address: string): EnrollmentError {
  if (err instanceof ClientError) {
    switch (err.code) {
      case Status.UNAUTHENTICATED:
        return new EnrollmentError(
          "the controller refused the join token: it is unknown, expired, revoked or already used. " +
            "Create a new one with `prexorctl token create`",
          { cause: err },
        );
      case Status.INVALID_ARGUMENT:
      case Status.ALREADY_EXISTS:
      case Status.FAILED_PRECONDITION:
      case Status.RESOURCE_EXHAUSTED:
        return new EnrollmentError(`the controller refused enrolment: ${err.details}`, { cause: err });
    }
  }
  return new EnrollmentError(`enrolment with the controller at ${address} failed: ${describe(err)}`, {
    cause: err,
  });
}

function describe(err: unknown): string {
  if (err instanceof ClientError) return `${Status[err.code]}: ${err.details}`;
  return (err as Error).message ?? String(err);
}
