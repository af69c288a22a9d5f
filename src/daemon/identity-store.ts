import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What enrolment leaves behind and every later start reads: the node's mTLS identity. */
export interface NodeIdentity {
  nodeId: string;
  clusterId: string;
  caCertificatePem: string;
  certificatePem: string;
  privateKeyPem: string;
  certificateNotAfterMs: number;
  /** controllers known at enrolment, tried after the configured address */
  controllerGrpcAddrs: string[];
  enrolledAt: string;
}

const FILES = {
  key: "node.key",
  certificate: "node.crt",
  ca: "ca.crt",
  meta: "node.json",
} as const;

/**
 * The identity lives in `security.certificateDir` as four files, all 0600 in a 0700 directory:
 * the private key (generated here, never sent anywhere), the node certificate, the cluster CA
 * and a small JSON record. Each is written to a temporary name and renamed, so a crash mid-write
 * never leaves half a certificate that the next start would trust.
 */
export function identityExists(dir: string): boolean {
  return existsSync(join(dir, FILES.meta)) && existsSync(join(dir, FILES.key));
}

export function loadIdentity(dir: string): NodeIdentity | null {
  if (!identityExists(dir)) return null;
  const meta = JSON.parse(readFileSync(join(dir, FILES.meta), "utf8")) as Omit<
    NodeIdentity,
    "caCertificatePem" | "certificatePem" | "privateKeyPem"
  >;
  return {
    ...meta,
    caCertificatePem: readFileSync(join(dir, FILES.ca), "utf8"),
    certificatePem: readFileSync(join(dir, FILES.certificate), "utf8"),
    privateKeyPem: readFileSync(join(dir, FILES.key), "utf8"),
  };
}

/** The key goes first: enrolment writes it before asking for a certificate, to prove it can. */
export function saveKey(dir: string, privateKeyPem: string): void {
  ensureDir(dir);
  writePrivate(join(dir, FILES.key), privateKeyPem);
}

export function saveIdentity(dir: string, identity: NodeIdentity): void {
  ensureDir(dir);
  writePrivate(join(dir, FILES.key), identity.privateKeyPem);
  writePrivate(join(dir, FILES.certificate), identity.certificatePem);
  writePrivate(join(dir, FILES.ca), identity.caCertificatePem);
  const { caCertificatePem: _ca, certificatePem: _cert, privateKeyPem: _key, ...meta } = identity;
  // Written last: its presence is what marks the node as enrolled.
  writePrivate(join(dir, FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

function writePrivate(file: string, content: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
