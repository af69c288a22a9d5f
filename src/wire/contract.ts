/**
 * Constants both ends of the controller <-> daemon wire must agree on.
 */

/**
 * Wire protocol version carried in Hello, HelloAck and RedeemJoinTokenRequest. Bump it only for a
 * breaking change to proto/prexor/v1 (removing, renumbering or retyping a field); additions are
 * compatible and keep it.
 */
export const PROTOCOL_VERSION = 1;

/** Oldest daemon protocol version a controller of this build still talks to. */
export const MIN_SUPPORTED_PROTOCOL_VERSION = 1;

/**
 * The name every controller certificate carries (CN and DNS SAN) and that daemons verify instead of
 * the address they dialled, passed as grpc-js' `grpc.ssl_target_name_override`. Two reasons: Bun's
 * TLS refuses an IP address as the SNI server name, so dialling `10.0.0.5:9090` fails without an
 * override; and any controller of the cluster may serve any daemon, so the meaningful check is "a
 * controller certificate from our cluster CA", not "this exact host".
 */
export const CONTROLLER_TLS_SERVER_NAME = "prexorcloud-controller";

/** Largest gRPC message either side accepts (inline module jars and file reads stay below it). */
export const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

/** Payload size of one ArtifactChunk. */
export const ARTIFACT_CHUNK_BYTES = 1024 * 1024;
