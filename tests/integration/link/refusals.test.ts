/**
 * Everything the daemon listener must refuse, each with a logged reason and without disturbing the
 * controller: no client certificate, a certificate from another CA, a revoked certificate, a frame
 * that does not decode, an unknown protocol version, a Hello for another node, a first frame that
 * is not Hello. Raw clients stand in for misbehaving daemons.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type Channel,
  ChannelCredentials,
  ClientError,
  createChannel,
  createClient,
  type MethodDefinition,
  Status,
} from "nice-grpc";
import { createClusterCa } from "../../../src/controller/pki/ca.ts";
import { signNodeCsr } from "../../../src/controller/pki/node-cert.ts";
import { enroll } from "../../../src/daemon/enroll.ts";
import type { NodeIdentity } from "../../../src/daemon/identity-store.ts";
import { createNodeKeyAndCsr } from "../../../src/daemon/pki/csr.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import {
  CONTROLLER_TLS_SERVER_NAME,
  ControllerMessage,
  DaemonMessage,
  Heartbeat,
  Hello,
  PROTOCOL_VERSION,
} from "../../../src/wire/index.ts";
import { waitFor } from "../../support/wait.ts";
import { startCluster, startTestDaemon, type TestCluster, tempDir, waitForState } from "./harness.ts";

let cluster: TestCluster;
const channels: Channel[] = [];

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  for (const channel of channels) channel.close();
  await cluster.stop();
});

/** DaemonService.Connect that sends raw bytes, so a test can send what no encoder would. */
const RawConnect: {
  readonly connect: MethodDefinition<
    Uint8Array,
    Uint8Array,
    ControllerMessage,
    ControllerMessage,
    true,
    true
  >;
} = {
  connect: {
    path: "/prexor.v1.DaemonService/Connect",
    requestStream: true,
    responseStream: true,
    requestSerialize: (bytes: Uint8Array) => bytes,
    requestDeserialize: (bytes: Uint8Array) => bytes,
    responseSerialize: (message: ControllerMessage) => ControllerMessage.encode(message).finish(),
    responseDeserialize: (bytes: Uint8Array) => ControllerMessage.decode(bytes),
    options: {},
  },
};

interface Credentials {
  ca: string;
  key?: string;
  cert?: string;
}

function dial(credentials: Credentials): Channel {
  const channel = createChannel(
    cluster.grpcAddress,
    ChannelCredentials.createSsl(
      Buffer.from(credentials.ca),
      credentials.key ? Buffer.from(credentials.key) : null,
      credentials.cert ? Buffer.from(credentials.cert) : null,
    ),
    { "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME },
  );
  channels.push(channel);
  return channel;
}

function encode(frame: DaemonMessage["frame"]): Uint8Array {
  return DaemonMessage.encode(DaemonMessage.create({ frame })).finish();
}

function hello(nodeId: string, protocolVersion = PROTOCOL_VERSION): Uint8Array {
  return encode({ case: "hello", value: Hello.create({ nodeId, protocolVersion, daemonVersion: "raw" }) });
}

/** Sends the frames, keeps the stream open until the controller ends it, returns what came back. */
async function session(credentials: Credentials, frames: Uint8Array[]) {
  const received: ControllerMessage[] = [];
  let ended: () => void = () => {};
  const controllerDone = new Promise<void>((resolve) => {
    ended = resolve;
  });
  async function* outgoing() {
    yield* frames;
    await controllerDone;
  }
  try {
    for await (const message of createClient(RawConnect, dial(credentials)).connect(outgoing(), {
      signal: AbortSignal.timeout(5000),
    })) {
      received.push(message);
    }
    return { received, error: undefined };
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    return { received, error: err };
  } finally {
    ended();
  }
}

async function enrolled(nodeId: string): Promise<NodeIdentity> {
  return enroll({
    address: cluster.grpcAddress,
    joinToken: await cluster.mintToken(nodeId),
    nodeId,
    certificateDir: tempDir("prexor-raw-"),
    daemonVersion: "raw",
    log: silentLogger(),
  });
}

function creds(identity: NodeIdentity): Credentials {
  return { ca: identity.caCertificatePem, key: identity.privateKeyPem, cert: identity.certificatePem };
}

describe("the daemon listener refuses, logs why, and keeps serving", () => {
  test("a client without a certificate", async () => {
    const mark = cluster.logs.lines.length;
    const { error } = await session({ ca: cluster.running.pki.ca.certificatePem }, [hello("anyone")]);
    expect(error?.code).toBe(Status.UNAUTHENTICATED);
    expect(error?.details).toContain("BootstrapService");
    const line = await cluster.logs.waitFor(/gRPC call refused: Client certificate required/, mark);
    expect(String(line.detail)).toContain("no client certificate");
  });

  test("a certificate from another CA", async () => {
    const { ca: foreignCa } = await createClusterCa({ now: new Date() });
    const { privateKeyPem, csrDer } = await createNodeKeyAndCsr("intruder");
    const foreign = await signNodeCsr(foreignCa, { nodeId: "intruder", csr: csrDer, now: new Date() });
    const mark = cluster.logs.lines.length;
    const { error } = await session(
      { ca: cluster.running.pki.ca.certificatePem, key: privateKeyPem, cert: foreign.certificatePem },
      [hello("intruder")],
    );
    expect(error?.code).toBe(Status.UNAUTHENTICATED);
    const line = await cluster.logs.waitFor(/gRPC call refused/, mark);
    expect(String(line.detail)).toContain("not issued by the cluster CA");
  });

  test("a revoked certificate: its live stream is closed at once, and it cannot reconnect", async () => {
    const identity = await enrolled("revoked-raw");
    const live = session(creds(identity), [hello("revoked-raw")]);
    await waitFor(() => cluster.running.sessions.get("revoked-raw"), { what: "the raw session" });
    const mark = cluster.logs.lines.length;
    expect((await cluster.call("POST", "/api/v1/nodes/revoked-raw/revoke-cert")).status).toBe(200);
    // Closed by the revocation itself (the error names it), not by a heartbeat timeout.
    const closed = await live;
    expect(closed.error?.code).toBe(Status.UNAUTHENTICATED);
    expect(closed.error?.details).toContain("revoked");

    const { error } = await session(creds(identity), [hello("revoked-raw")]);
    expect(error?.code).toBe(Status.UNAUTHENTICATED);
    expect(error?.details).toContain("revoked");
    const line = await cluster.logs.waitFor(/gRPC call refused: Client certificate revoked/, mark);
    expect(line.node).toBe("revoked-raw");
  });

  test("a frame that does not decode", async () => {
    const identity = await enrolled("garbage-raw");
    const mark = cluster.logs.lines.length;
    // Field 10 with wire type 7 does not exist in protobuf: decoding must fail.
    const { error } = await session(creds(identity), [new Uint8Array([0x57, 0xff, 0xff, 0xff])]);
    expect(error?.code).toBe(Status.INVALID_ARGUMENT);
    const line = await cluster.logs.waitFor(/daemon sent a frame that does not decode/, mark);
    expect(line.nodeId).toBe("garbage-raw");
  });

  test("an unknown protocol version (too new and too old)", async () => {
    const identity = await enrolled("future-raw");
    for (const version of [PROTOCOL_VERSION + 1, 0]) {
      const mark = cluster.logs.lines.length;
      const { received, error } = await session(creds(identity), [hello("future-raw", version)]);
      expect(error?.code).toBe(Status.FAILED_PRECONDITION);
      expect(error?.details).toContain(`Unsupported daemon protocol version: ${version}`);
      const ack = received[0]?.frame;
      expect(ack?.case === "helloAck" && ack.value.protocolCompatible).toBe(false);
      const line = await cluster.logs.waitFor(/unsupported protocol version/, mark);
      expect(line.daemonProtocol).toBe(version);
    }
  });

  test("a Hello for another node than the certificate's, and a first frame that is not Hello", async () => {
    const identity = await enrolled("honest-raw");
    let mark = cluster.logs.lines.length;
    const other = await session(creds(identity), [hello("someone-else")]);
    expect(other.error?.code).toBe(Status.PERMISSION_DENIED);
    await cluster.logs.waitFor(/Hello.node_id differs from the certificate CN/, mark);

    mark = cluster.logs.lines.length;
    const early = await session(creds(identity), [encode({ case: "heartbeat", value: Heartbeat.create() })]);
    expect(early.error?.code).toBe(Status.FAILED_PRECONDITION);
    await cluster.logs.waitFor(/first frame is not Hello/, mark);
  });

  test("after all of that a normal daemon still enrols and comes ONLINE", async () => {
    const daemon = await startTestDaemon(cluster, "healthy", { token: await cluster.mintToken("healthy") });
    await waitForState(cluster, "healthy", "ONLINE");
    await daemon.stop();
    expect((await fetch(`${cluster.url}/api/v1/system/health`)).status).toBe(200);
  });
});
