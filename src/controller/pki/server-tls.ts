import type { SecureContextOptions } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";

/** What the controller's gRPC listener presents and trusts. */
export interface ServerTlsMaterial {
  /** Trust anchor for client certificates: the cluster CA, PEM. */
  readonly caCertificatePem: string;
  readonly certificatePem: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

export interface ServerTlsOptions {
  /**
   * True: the TLS layer refuses any client without a certificate from the CA (what
   * `ServerCredentials.createSsl(ca, keys, true)` does).
   *
   * False: the listener still asks for a client certificate and verifies any it gets against the CA,
   * but lets the handshake finish without one. That is how BootstrapService (an enrolling daemon has
   * no certificate yet) shares the port with DaemonService; the peer-identity interceptor then refuses
   * certificate-less or unverified callers on every other service. grpc-js has no public factory for
   * this combination (`createSsl(..., false)` stops asking for certificates altogether), hence this
   * subclass of its public ServerCredentials constructor.
   */
  readonly requireClientCertificate: boolean;
}

/**
 * gRPC server credentials for the controller listener whose material can be replaced at run time:
 * `update()` hands grpc-js a new secure context (it calls the http2 server's setSecureContext), so
 * new handshakes use a renewed certificate without restarting the listener.
 */
export class ControllerServerCredentials extends ServerCredentials {
  constructor(material: ServerTlsMaterial, options: ServerTlsOptions) {
    super(
      { requestCert: true, rejectUnauthorized: options.requireClientCertificate },
      contextOptions(material),
    );
  }

  update(material: ServerTlsMaterial): void {
    this.updateSecureContextOptions(contextOptions(material));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/** Fixed credentials where every client must present a certificate from the CA (no enrolment path). */
export function strictMutualTlsCredentials(material: ServerTlsMaterial): ServerCredentials {
  return ServerCredentials.createSsl(
    Buffer.from(material.caCertificatePem),
    [{ private_key: Buffer.from(material.privateKeyPem), cert_chain: Buffer.from(material.certificatePem) }],
    true,
  );
}

function contextOptions(material: ServerTlsMaterial): SecureContextOptions {
  return {
    ca: Buffer.from(material.caCertificatePem),
    cert: Buffer.from(material.certificatePem),
    key: Buffer.from(material.privateKeyPem),
  };
}
