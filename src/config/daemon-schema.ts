import { type Static, Type as T } from "@sinclair/typebox";
import { NODE_ID_PATTERN } from "../core/names.ts";

/** daemon.yml: one host's agent. */
export const DaemonConfigSchema = T.Object(
  {
    nodeId: T.String({
      pattern: NODE_ID_PATTERN,
      default: "node-1",
      description: "lowercase id, cluster-unique",
    }),
    advertiseAddress: T.String({
      default: "",
      description:
        "address proxies and the controller use to reach this node's servers; blank: the address the controller sees",
    }),
    controller: T.Object(
      {
        host: T.String({ minLength: 1, default: "127.0.0.1", description: "the first controller to dial" }),
        grpcPort: T.Integer({ minimum: 1, maximum: 65535, default: 9090, description: "its gRPC port" }),
        httpPort: T.Integer({
          minimum: 1,
          maximum: 65535,
          default: 8080,
          description: "its REST port (enrolment)",
        }),
        endpoints: T.Array(T.String({ pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$" }), {
          default: [],
          description:
            "gRPC HOST:PORT of every controller, tried in order after host:grpcPort; the daemon also learns the live list from any controller",
        }),
        helloTimeoutMs: T.Integer({
          minimum: 500,
          default: 5000,
          description:
            "a controller that does not answer Hello within this is skipped (a paused process still completes TCP handshakes)",
        }),
      },
      { default: {} },
    ),
    health: T.Object(
      {
        enabled: T.Boolean({ default: true, description: "serve the daemon's health endpoint" }),
        bindAddress: T.String({ default: "127.0.0.1", description: "health endpoint listen address" }),
        port: T.Integer({ minimum: 1, maximum: 65535, default: 9091, description: "health endpoint port" }),
      },
      { default: {} },
    ),
    security: T.Object(
      {
        certificateDir: T.String({
          default: "config/security",
          description: "node key, certificate and cluster CA (0600), relative to the install root",
        }),
        joinToken: T.String({ default: "", description: "pxr_…; used once, ignored after enrolment" }),
      },
      { default: {} },
    ),
    instances: T.Object(
      {
        directory: T.String({
          default: "instances",
          description: "instance working directories, relative to the install root",
        }),
        shutdownTimeoutSeconds: T.Integer({
          minimum: 1,
          default: 30,
          description: "grace after the stop command before the server is sent SIGTERM",
        }),
        killTimeoutSeconds: T.Integer({
          minimum: 1,
          default: 10,
          description: "grace after SIGTERM before SIGKILL",
        }),
        logRingBufferLines: T.Integer({
          minimum: 10,
          default: 500,
          description: "console lines kept per instance (backlog for new subscribers and crash reports)",
        }),
        maxConsoleOutputLinesPerSecond: T.Integer({
          minimum: 1,
          default: 200,
          description: "console lines per second forwarded per instance; the rest are counted as dropped",
        }),
        playerCountPoll: T.Object(
          {
            intervalMs: T.Integer({
              minimum: 0,
              default: 5000,
              description:
                "how often each RUNNING instance is asked its player count by Server List Ping (jittered ±20 %); 0 turns it off",
            }),
            concurrency: T.Integer({
              minimum: 1,
              maximum: 64,
              default: 8,
              description: "pings in flight at once",
            }),
            timeoutMs: T.Integer({ minimum: 100, default: 2000, description: "one ping's deadline" }),
          },
          { default: {} },
        ),
        stopOnDaemonExit: T.Boolean({
          default: false,
          description:
            "stop every workload when the daemon process exits; by default they keep running and the next daemon re-adopts them",
        }),
      },
      { default: {} },
    ),
    cache: T.Object(
      {
        directory: T.String({
          default: "cache",
          description: "artifact and template-layer cache (content-addressed), relative to the install root",
        }),
      },
      { default: {} },
    ),
    resources: T.Object(
      { maxMemoryMb: T.Integer({ minimum: 0, default: 0, description: "0 means 80 % of physical memory" }) },
      { default: {} },
    ),
    logging: T.Object(
      {
        level: T.Union(
          [T.Literal("TRACE"), T.Literal("DEBUG"), T.Literal("INFO"), T.Literal("WARN"), T.Literal("ERROR")],
          { default: "INFO", description: "least severe log level written" },
        ),
        format: T.Union([T.Literal("HUMAN"), T.Literal("JSON")], {
          default: "HUMAN",
          description: "HUMAN (readable lines) or JSON (one object per line, for log shippers)",
        }),
      },
      { default: {} },
    ),
    reconnect: T.Object(
      {
        initialDelayMs: T.Integer({
          minimum: 100,
          default: 1000,
          description: "first redial delay after the controller stream breaks",
        }),
        maxDelayMs: T.Integer({
          minimum: 100,
          default: 5000,
          description:
            "kept below the node session lease, so a daemon is back before its node counts as lost",
        }),
        multiplier: T.Number({
          minimum: 1,
          default: 2,
          description: "each further redial delay is the previous times this",
        }),
        jitter: T.Number({
          minimum: 0,
          maximum: 1,
          default: 0.2,
          description: "each delay is randomised by up to this fraction, so daemons do not redial in step",
        }),
      },
      { default: {} },
    ),
    labels: T.Record(T.String(), T.String(), {
      default: {},
      description: "placement labels of this node (affinity, anti-affinity, spread)",
    }),
  },
  { default: {} },
);

export type DaemonConfig = Static<typeof DaemonConfigSchema>;
