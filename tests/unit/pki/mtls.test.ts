/**
 * Proof that the cluster PKI works as gRPC mutual TLS in Bun: a real nice-grpc server on an ephemeral
 * loopback port, certificates from src/controller/pki, the generated DaemonService definition, and
 * clients that do and do not hold a node certificate. Every call is bounded by an abort signal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PeerCertificate } from "node:tls";
import {
  type Channel,
  ChannelCredentials,
  ClientError,
  createChannel,
  createClient,
  createServer,
  Metadata,
  type Server,
  ServerError,
  Status,
} from "nice-grpc";
import type { ClusterCa } from "../../../src/controller/pki/ca.ts";
import { createClusterCa } from "../../../src/controller/pki/ca.ts";
import { describeCertificate } from "../../../src/controller/pki/inspect.ts";
import {
  createPeerIdentityInterceptor,
  PEER_CN_METADATA_KEY,
  type PeerIdentity,
  peerIdentityFromMetadata,
} from "../../../src/controller/pki/peer-identity.ts";
import { normalizeSerialHex } from "../../../src/controller/pki/serial.ts";
import { issueServerCertificate } from "../../../src/controller/pki/server-cert.ts";
import {
  ControllerServerCredentials,
  strictMutualTlsCredentials,
} from "../../../src/controller/pki/server-tls.ts";
import {
  BootstrapServiceDefinition,
  BootstrapServiceFullName,
  CONTROLLER_TLS_SERVER_NAME,
  ControllerMessage,
  DaemonMessage,
  DaemonServiceDefinition,
  Heartbeat,
  Hello,
  HelloAck,
  PROTOCOL_VERSION,
} from "../../../src/wire/index.ts";
import { makeNode, type NodeCredentials } from "./fixtures.ts";

/** Upper bound for any single call; a refused or broken call must fail well before it. */
const CALL_TIMEOUT_MS = 10_000;

interface Cluster {
  readonly ca: ClusterCa;
  readonly serverCertificatePem: string;
  readonly serverPrivateKeyPem: string;
  readonly serverSerial: string;
}

async function makeCluster(): Promise<Cluster> {
  const now = new Date();
  const { ca } = await createClusterCa({ now });
  const server = await issueServerCertificate(ca, { now });
  return {
    ca,
    serverCertificatePem: server.certificatePem,
    serverPrivateKeyPem: server.privateKeyPem,
    serverSerial: server.serialNumber,
  };
}

/** Identities seen by the Connect handler, in arrival order. */
type Observed = (PeerIdentity | undefined)[];

function addDaemonService(server: Server, observed: Observed): void {
  server.add(DaemonServiceDefinition, {
    async *connect(requests, context) {
      const identity = peerIdentityFromMetadata(context.metadata);
      observed.push(identity);
      let sequence = 0;
      for await (const message of requests) {
        const frame = message.frame;
        if (frame?.case === "hello") {
          if (frame.value.nodeId !== identity?.commonName) {
            throw new ServerError(
              Status.PERMISSION_DENIED,
              "Hello.node_id does not match the client certificate",
            );
          }
          yield ControllerMessage.create({
            epoch: 1,
            frame: {
              case: "helloAck",
              value: HelloAck.create({
                sessionId: `session-${identity.commonName}`,
                protocolVersion: PROTOCOL_VERSION,
                protocolCompatible: true,
                heartbeatIntervalMs: 30_000,
                epoch: 1,
              }),
            },
          });
        } else if (frame?.case === "heartbeat") {
          sequence += 1;
          yield ControllerMessage.create({
            epoch: 1,
            frame: { case: "ping", value: { sequence, controllerGrpcAddrs: [] } },
          });
        }
      }
    },
  });
}

interface ClientTls {
  readonly ca: ClusterCa;
  readonly node?: NodeCredentials;
  readonly onServerCertificate?: (certificate: PeerCertificate) => void;
}

/** Dials by IP: Bun refuses an IP as TLS server name, so the shared controller name is verified instead. */
function dial(port: number, tls: ClientTls): Channel {
  const credentials = ChannelCredentials.createSsl(
    Buffer.from(tls.ca.certificatePem),
    tls.node ? Buffer.from(tls.node.privateKeyPem) : null,
    tls.node ? Buffer.from(tls.node.certificatePem) : null,
    tls.onServerCertificate
      ? {
          checkServerIdentity: (_host, certificate) => {
            tls.onServerCertificate?.(certificate);
            return undefined;
          },
        }
      : {},
  );
  return createChannel(`127.0.0.1:${port}`, credentials, {
    "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME,
  });
}

/** Runs a short daemon session: Hello, wait for HelloAck, one Heartbeat, then half-close. */
async function runSession(
  channel: Channel,
  nodeId: string,
  metadata = Metadata(),
): Promise<ControllerMessage[]> {
  const client = createClient(DaemonServiceDefinition, channel);
  let helloAcked: () => void = () => {};
  const acked = new Promise<void>((resolve) => {
    helloAcked = resolve;
  });
  async function* frames(): AsyncIterable<DaemonMessage> {
    yield DaemonMessage.create({
      frame: { case: "hello", value: Hello.create({ nodeId, protocolVersion: PROTOCOL_VERSION }) },
    });
    await acked;
    yield DaemonMessage.create({
      frame: { case: "heartbeat", value: Heartbeat.create({ usedPorts: [30000] }) },
    });
  }
  const received: ControllerMessage[] = [];
  for await (const message of client.connect(frames(), {
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    metadata,
  })) {
    received.push(message);
    if (message.frame?.case === "helloAck") helloAcked();
  }
  return received;
}

async function failureOf(work: Promise<unknown>): Promise<ClientError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(error)}`);
  return error;
}

describe("mTLS: listener that requires a client certificate", () => {
  let cluster: Cluster;
  let foreign: Cluster;
  let node: NodeCredentials;
  let foreignNode: NodeCredentials;
  let server: Server;
  let port: number;
  const observed: Observed = [];
  const channels: Channel[] = [];

  beforeAll(async () => {
    cluster = await makeCluster();
    foreign = await makeCluster();
    node = await makeNode(cluster.ca, "node-1");
    foreignNode = await makeNode(foreign.ca, "node-1");

    server = createServer({ interceptors: [createPeerIdentityInterceptor()] });
    addDaemonService(server, observed);
    port = await server.listen(
      "127.0.0.1:0",
      strictMutualTlsCredentials({
        caCertificatePem: cluster.ca.certificatePem,
        certificatePem: cluster.serverCertificatePem,
        privateKeyPem: cluster.serverPrivateKeyPem,
      }),
    );
  });

  afterAll(async () => {
    for (const channel of channels) channel.close();
    server.forceShutdown();
  });

  function open(tls: ClientTls): Channel {
    const channel = dial(port, tls);
    channels.push(channel);
    return channel;
  }

  test("binds an ephemeral port", () => {
    expect(port).toBeGreaterThan(0);
  });

  test("a daemon with a node certificate connects, exchanges frames, and the server reads its CN", async () => {
    const before = observed.length;
    const received = await runSession(open({ ca: cluster.ca, node }), "node-1");

    expect(received.map((m) => m.frame?.case)).toEqual(["helloAck", "ping"]);
    const ack = received[0]?.frame;
    expect(ack?.case === "helloAck" && ack.value.sessionId).toBe("session-node-1");
    expect(received[1]?.epoch).toBe(1);

    const identity = observed[before];
    expect(identity?.commonName).toBe("node-1");
    expect(identity?.serialNumber).toBe(describeCertificate(node.certificatePem, new Date()).serialNumber);
  });

  test("a Hello whose node id differs from the certificate CN is refused", async () => {
    const error = await failureOf(runSession(open({ ca: cluster.ca, node }), "node-2"));
    expect(error.code).toBe(Status.PERMISSION_DENIED);
  });

  test("a client without a certificate is refused during the TLS handshake", async () => {
    const before = observed.length;
    const error = await failureOf(runSession(open({ ca: cluster.ca }), "node-1"));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(observed.length).toBe(before);
  });

  test("a client with a certificate from another CA is refused", async () => {
    const before = observed.length;
    // The client trusts our CA (so it accepts the server) but presents a foreign node certificate.
    const error = await failureOf(runSession(open({ ca: cluster.ca, node: foreignNode }), "node-1"));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(observed.length).toBe(before);
  });

  test("a client that does not trust the cluster CA refuses the server", async () => {
    const error = await failureOf(runSession(open({ ca: foreign.ca, node: foreignNode }), "node-1"));
    expect(error.code).toBe(Status.UNAVAILABLE);
  });
});

describe("mTLS: shared listener with BootstrapService open to clients without a certificate", () => {
  let cluster: Cluster;
  let foreign: Cluster;
  let node: NodeCredentials;
  let revokedNode: NodeCredentials;
  let foreignNode: NodeCredentials;
  let tls: ControllerServerCredentials;
  let server: Server;
  let port: number;
  const observed: Observed = [];
  const bootstrapCallers: (PeerIdentity | undefined)[] = [];
  const revokedSerials = new Set<string>();
  const channels: Channel[] = [];

  beforeAll(async () => {
    cluster = await makeCluster();
    foreign = await makeCluster();
    node = await makeNode(cluster.ca, "node-1");
    revokedNode = await makeNode(cluster.ca, "node-9");
    foreignNode = await makeNode(foreign.ca, "node-1");
    revokedSerials.add(describeCertificate(revokedNode.certificatePem, new Date()).serialNumber);

    tls = new ControllerServerCredentials(
      {
        caCertificatePem: cluster.ca.certificatePem,
        certificatePem: cluster.serverCertificatePem,
        privateKeyPem: cluster.serverPrivateKeyPem,
      },
      { requireClientCertificate: false },
    );
    server = createServer({
      interceptors: [
        createPeerIdentityInterceptor({
          exemptServices: [BootstrapServiceFullName],
          isRevoked: (identity) => revokedSerials.has(identity.serialNumber),
        }),
      ],
    });
    addDaemonService(server, observed);
    server.add(BootstrapServiceDefinition, {
      async redeemJoinToken() {
        throw new ServerError(Status.UNAUTHENTICATED, "Invalid or expired join token");
      },
      async getClusterCa(_request, context) {
        bootstrapCallers.push(peerIdentityFromMetadata(context.metadata));
        return { caCertificatePem: cluster.ca.certificatePem, sha256Fingerprint: cluster.ca.fingerprint };
      },
    });
    port = await server.listen("127.0.0.1:0", tls);
  });

  afterAll(() => {
    for (const channel of channels) channel.close();
    server.forceShutdown();
  });

  function open(options: ClientTls): Channel {
    const channel = dial(port, options);
    channels.push(channel);
    return channel;
  }

  test("a client without a certificate can fetch the CA, and forged identity metadata is dropped", async () => {
    const client = createClient(BootstrapServiceDefinition, open({ ca: cluster.ca }));
    const forged = Metadata({ [PEER_CN_METADATA_KEY]: "controller" });
    const response = await client.getClusterCa(
      {},
      { signal: AbortSignal.timeout(CALL_TIMEOUT_MS), metadata: forged },
    );
    expect(response.sha256Fingerprint).toBe(cluster.ca.fingerprint);
    expect(bootstrapCallers.at(-1)).toBeUndefined();
  });

  test("a client without a certificate cannot open the daemon stream", async () => {
    const before = observed.length;
    const error = await failureOf(runSession(open({ ca: cluster.ca }), "node-1"));
    expect(error.code).toBe(Status.UNAUTHENTICATED);
    expect(error.details).toContain("BootstrapService");
    expect(observed.length).toBe(before);
  });

  test("a certificate from another CA counts as no certificate", async () => {
    const error = await failureOf(runSession(open({ ca: cluster.ca, node: foreignNode }), "node-1"));
    expect(error.code).toBe(Status.UNAUTHENTICATED);
  });

  test("a node certificate opens the stream, with forged identity metadata replaced by the real one", async () => {
    const before = observed.length;
    const forged = Metadata({ [PEER_CN_METADATA_KEY]: "node-2" });
    const received = await runSession(open({ ca: cluster.ca, node }), "node-1", forged);
    expect(received.map((m) => m.frame?.case)).toEqual(["helloAck", "ping"]);
    expect(observed[before]?.commonName).toBe("node-1");
  });

  test("a revoked certificate is refused", async () => {
    const error = await failureOf(runSession(open({ ca: cluster.ca, node: revokedNode }), "node-9"));
    expect(error.code).toBe(Status.UNAUTHENTICATED);
    expect(error.details).toContain("revoked");
  });

  test("a renewed server certificate is served to new connections without a restart", async () => {
    const seen: string[] = [];
    await runSession(
      open({ ca: cluster.ca, node, onServerCertificate: (c) => seen.push(c.serialNumber) }),
      "node-1",
    );

    const renewed = await issueServerCertificate(cluster.ca, { now: new Date() });
    tls.update({
      caCertificatePem: cluster.ca.certificatePem,
      certificatePem: renewed.certificatePem,
      privateKeyPem: renewed.privateKeyPem,
    });
    await runSession(
      open({ ca: cluster.ca, node, onServerCertificate: (c) => seen.push(c.serialNumber) }),
      "node-1",
    );

    expect(seen.map(normalizeSerialHex)).toEqual([cluster.serverSerial, renewed.serialNumber]);
  });
});
