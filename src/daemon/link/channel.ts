import { type Channel, ChannelCredentials, createChannel } from "nice-grpc";
import { CONTROLLER_TLS_SERVER_NAME, MAX_MESSAGE_BYTES } from "../../wire/index.ts";

export interface NodeTls {
  caCertificatePem: string;
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * Every channel verifies the controller as "a controller certificate from our cluster CA": the
 * shared name is checked instead of the dialled host (see CONTROLLER_TLS_SERVER_NAME).
 */
const CHANNEL_OPTIONS = {
  "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME,
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  // One channel per session attempt; the link does its own backoff between attempts.
  "grpc.enable_retries": 0,
};

/** mTLS with the node certificate: the only way a daemon talks to DaemonService. */
export function nodeChannel(address: string, tls: NodeTls): Channel {
  return createChannel(
    address,
    ChannelCredentials.createSsl(
      Buffer.from(tls.caCertificatePem),
      Buffer.from(tls.privateKeyPem),
      Buffer.from(tls.certificatePem),
    ),
    CHANNEL_OPTIONS,
  );
}

/** TLS verified against the cluster CA but without a client certificate: enrolment. */
export function enrolmentChannel(address: string, caCertificatePem: string): Channel {
  return createChannel(address, ChannelCredentials.createSsl(Buffer.from(caCertificatePem)), CHANNEL_OPTIONS);
}

/**
 * TLS without verifying the server, used for exactly one call: fetching the cluster CA, whose
 * fingerprint is then checked against the pin in the join token before anything secret is sent.
 */
export function unverifiedChannel(address: string): Channel {
  return createChannel(
    address,
    ChannelCredentials.createSsl(null, null, null, { rejectUnauthorized: false }),
    CHANNEL_OPTIONS,
  );
}
