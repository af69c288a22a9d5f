import { type Static, Type as T } from "@sinclair/typebox";

/**
 * controller.yml. Defaults follow the product's documented defaults; keys that v1.1's Raft used are
 * deliberately absent (we coordinate through Valkey leases, not consensus).
 */
const Port = (def: number, description: string) =>
  T.Integer({ minimum: 1, maximum: 65535, default: def, description });
const Level = T.Union(
  [T.Literal("TRACE"), T.Literal("DEBUG"), T.Literal("INFO"), T.Literal("WARN"), T.Literal("ERROR")],
  { default: "INFO", description: "least severe log level written" },
);
const Origin = T.String({ pattern: "^https?://", description: "an http:// or https:// origin" });
const Cidr = T.String({ minLength: 1, description: "a CIDR such as 10.0.0.0/8 or ::/0" });

export const ControllerConfigSchema = T.Object(
  {
    uuid: T.String({ default: "", description: "controller id; generated on first start when blank" }),
    runtime: T.Object(
      {
        profile: T.Union([T.Literal("development"), T.Literal("production")], {
          default: "development",
          description:
            "production requires MongoDB, Redis and security.clusterSecret, and makes module signing required by default",
        }),
        dataDir: T.String({
          default: "data",
          description: "embedded store and runtime files, relative to the install root",
        }),
      },
      { default: {} },
    ),
    http: T.Object(
      {
        host: T.String({ default: "0.0.0.0", description: "REST API listen address" }),
        port: Port(8080, "REST API port (also /metrics, /health, /ready)"),
        maxBodyBytes: T.Integer({
          minimum: 1024,
          default: 1048576,
          description: "largest JSON request body accepted; larger bodies answer 413",
        }),
        trustedProxyCidrs: T.Array(Cidr, {
          default: [],
          description: "reverse proxies whose X-Forwarded-For is believed for the client address",
        }),
        cors: T.Object(
          {
            allowedOrigins: T.Array(Origin, {
              default: ["http://localhost:3000"],
              description: "browser origins allowed to call the API",
            }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    grpc: T.Object(
      {
        host: T.String({ default: "0.0.0.0", description: "daemon gRPC (mutual TLS) listen address" }),
        port: Port(9090, "daemon gRPC port"),
        advertiseHosts: T.Array(T.String(), {
          default: [],
          description: "extra DNS names / IPs for the server certificate",
        }),
      },
      { default: {} },
    ),
    network: T.Object(
      {
        allowedSubnets: T.Array(Cidr, {
          default: ["0.0.0.0/0", "::/0"],
          description:
            "client addresses allowed to reach the REST API and the daemon gRPC listener; others are refused (REST: 403)",
        }),
      },
      { default: {} },
    ),
    database: T.Object(
      {
        driver: T.Union([T.Literal("auto"), T.Literal("embedded"), T.Literal("mongodb")], {
          default: "auto",
          description: "auto: embedded in development, mongodb in production",
        }),
        uri: T.String({
          minLength: 1,
          default: "mongodb://localhost:27017",
          description: "MongoDB connection string (driver mongodb)",
        }),
        database: T.String({ minLength: 1, default: "prexorcloud", description: "MongoDB database name" }),
        connectTimeoutMs: T.Integer({
          minimum: 100,
          default: 5000,
          description: "bound on connecting to MongoDB at start",
        }),
        operationTimeoutMs: T.Integer({
          minimum: 100,
          default: 2500,
          description:
            "bound on one store operation (server selection, each socket read); past it requests answer 503 STORE_UNAVAILABLE",
        }),
      },
      { default: {} },
    ),
    redis: T.Optional(
      T.Object({
        uri: T.String({
          minLength: 1,
          default: "redis://localhost:6379",
          description:
            "Redis/Valkey for leases, events and rate limits; absent means in-memory coordination (one controller only)",
        }),
        connectTimeoutMs: T.Integer({
          minimum: 100,
          default: 5000,
          description: "bound on connecting to Redis/Valkey",
        }),
      }),
    ),
    logging: T.Object(
      {
        level: Level,
        format: T.Union([T.Literal("HUMAN"), T.Literal("JSON")], {
          default: "HUMAN",
          description: "HUMAN (readable lines) or JSON (one object per line, for log shippers)",
        }),
      },
      { default: {} },
    ),
    scheduler: T.Object(
      {
        evaluationIntervalSeconds: T.Integer({
          minimum: 1,
          default: 15,
          description: "period of the scheduler pass; also the base of its lease TTLs",
        }),
        scalingCooldownSeconds: T.Integer({
          minimum: 0,
          default: 60,
          description: "minimum time between two scaling decisions for one group",
        }),
        cpuHardLimit: T.Number({
          minimum: 0.1,
          maximum: 2,
          default: 0.95,
          description:
            "placement refuses a node whose measured CPU usage plus the group's cpuReservation exceeds this; 1 or more turns the rule off (hosts shared with other load, test rigs)",
        }),
        nodeTimeoutSeconds: T.Integer({
          minimum: 1,
          default: 90,
          description: "a node silent this long is taken out of placement",
        }),
        auditRetentionDays: T.Integer({
          minimum: 1,
          default: 90,
          description: "audit log entries older than this are pruned",
        }),
      },
      { default: {} },
    ),
    heartbeat: T.Object(
      {
        intervalMs: T.Integer({
          minimum: 100,
          default: 30000,
          description: "controller Ping and daemon Heartbeat period; small values are for tests",
        }),
        missedThreshold: T.Integer({
          minimum: 1,
          default: 3,
          description: "missed heartbeats after which a daemon stream counts as dead",
        }),
        sessionLeaseMs: T.Integer({
          minimum: 300,
          default: 10000,
          description:
            "TTL of a node's session lease; renewed by the controller holding the stream, so a node moves to another controller this soon after its controller dies",
        }),
        instanceLostGraceMs: T.Integer({
          minimum: 0,
          default: 20000,
          description: "how long an unreachable node's instances are kept before they are declared lost",
        }),
      },
      { default: {} },
    ),
    security: T.Object(
      {
        jwtSecret: T.String({ default: "", description: "base64, at least 32 bytes; generated when blank" }),
        clusterSecret: T.String({
          default: "",
          description:
            "seals the cluster CA key in the durable store; identical on every controller. Required in " +
            "production; generated into config/security/cluster-secret when blank in development",
        }),
        jwtExpirationMinutes: T.Integer({
          minimum: 1,
          maximum: 43200,
          default: 1440,
          description: "lifetime of an access token",
        }),
        jwtPreviousSecrets: T.Array(T.String(), {
          default: [],
          description: "former jwtSecret values still accepted for verification during a rotation",
        }),
        initialAdminPassword: T.String({
          default: "",
          description:
            "password of the first admin on a fresh store; generated (config/.initial-admin-password) when blank",
        }),
        rateLimiting: T.Object(
          {
            perIpPerMinute: T.Integer({
              minimum: 1,
              default: 100,
              description: "requests per minute from one client address",
            }),
            perUserPerMinute: T.Integer({
              minimum: 1,
              default: 300,
              description: "requests per minute by one authenticated user",
            }),
            loginPerIpPerMinute: T.Integer({
              minimum: 1,
              default: 10,
              description: "login attempts per minute from one client address",
            }),
            failOpenOnRedisError: T.Boolean({
              default: false,
              description:
                "let requests through when the rate limiter's Redis fails (default: a local limiter decides)",
            }),
          },
          { default: {} },
        ),
        lockout: T.Object(
          {
            enabled: T.Boolean({
              default: true,
              description: "lock an account after repeated failed logins",
            }),
            /** failures from one source address that lock the account for that address */
            maxAttempts: T.Integer({
              minimum: 1,
              default: 5,
              description: "failures from one source address that lock the account for that address",
            }),
            /** failures from all addresses together that lock the account everywhere */
            accountMaxAttempts: T.Integer({
              minimum: 1,
              default: 100,
              description: "failures from all addresses together that lock the account everywhere",
            }),
            windowSeconds: T.Integer({
              minimum: 1,
              default: 900,
              description: "window in which failed logins are counted",
            }),
            lockoutSeconds: T.Integer({
              minimum: 1,
              default: 900,
              description: "how long a locked account stays locked",
            }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    minecraft: T.Object(
      {
        /**
         * The operator accepted the Minecraft EULA (https://aka.ms/MinecraftEULA) for every group;
         * until then no PAPER/FOLIA/PURPUR/SPIGOT group starts (a group can accept for itself).
         */
        acceptEula: T.Boolean({
          default: false,
          description: "accept the Minecraft EULA for every group (the daemon then writes eula.txt)",
        }),
      },
      { default: {} },
    ),
    catalog: T.Object(
      {
        downloads: T.Object(
          {
            enabled: T.Boolean({
              default: true,
              description:
                "resolve PAPER, FOLIA, VELOCITY and WATERFALL versions missing from the catalog from PaperMC's downloads API",
            }),
            api: T.Union([T.Literal("v3"), T.Literal("v2")], {
              default: "v3",
              description: "API shape: v3 (Fill, current) or v2 (the older projects/versions/builds API)",
            }),
            baseUrl: T.String({
              pattern: "^(https?://.+)?$",
              default: "",
              description:
                "the API's origin, e.g. a mirror; blank: https://fill.papermc.io (v3) or https://api.papermc.io (v2)",
            }),
            userAgent: T.String({
              default: "",
              description:
                "User-Agent sent to the API, which asks for one naming the software and a contact (URL or e-mail); blank sends PrexorCloud/<version>",
            }),
            timeoutMs: T.Integer({
              minimum: 100,
              default: 10000,
              description: "bound on one API request; past it the plan fails TRANSIENT and is retried",
            }),
            channels: T.Array(T.String({ minLength: 1 }), {
              default: ["RECOMMENDED", "STABLE"],
              description:
                "build channels accepted, best first (v3: ALPHA, BETA, STABLE, RECOMMENDED; v2 maps default to STABLE and experimental to BETA)",
            }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    crashes: T.Object(
      {
        ringBufferSize: T.Integer({
          minimum: 1,
          default: 500,
          description: "crash reports kept per controller (oldest dropped first)",
        }),
        crashLoopThreshold: T.Integer({
          minimum: 1,
          default: 3,
          description: "crashes of one group within the window that pause it as a crash loop",
        }),
        crashLoopWindowSeconds: T.Integer({
          minimum: 1,
          default: 300,
          description: "window of the crash-loop detector",
        }),
      },
      { default: {} },
    ),
    metrics: T.Object(
      {
        enabled: T.Boolean({ default: true, description: "serve Prometheus metrics at /metrics" }),
        retentionHours: T.Integer({
          minimum: 1,
          default: 168,
          description: "how long sampled metrics history is kept",
        }),
        collectionIntervalSeconds: T.Integer({
          minimum: 1,
          default: 30,
          description: "period of the sampled gauges (players, instances, nodes)",
        }),
      },
      { default: {} },
    ),
    sse: T.Object(
      {
        maxClients: T.Integer({ minimum: 1, default: 100, description: "general event stream connections" }),
        replayBufferSize: T.Integer({
          minimum: 16,
          default: 2048,
          description: "events kept for Last-Event-ID resume, shared by all controllers",
        }),
        keepAliveMs: T.Integer({ minimum: 100, default: 15000, description: "comment frame period" }),
      },
      { default: {} },
    ),
    modules: T.Object(
      {
        directory: T.String({
          default: "modules",
          description: "installed module jars, relative to the install root",
        }),
        dataDirectory: T.String({
          default: "modules/data",
          description: "modules' private data, relative to the install root",
        }),
        registries: T.Array(T.String(), { default: [], description: "module registry index URLs" }),
        signing: T.Object(
          {
            required: T.Optional(
              T.Boolean({ description: "defaults to true in production, false in development" }),
            ),
            mode: T.Union([T.Literal("KEYED"), T.Literal("COSIGN_BUNDLE")], {
              default: "KEYED",
              description:
                "how module signatures are checked: KEYED (a public key) or COSIGN_BUNDLE (Sigstore bundle)",
            }),
            trustRoot: T.String({
              default: "",
              description: "PEM file of the trusted key or root; required when signing is required",
            }),
            allowUnsignedDevelopment: T.Boolean({
              default: true,
              description: "accept unsigned modules in the development profile",
            }),
            rekor: T.Object(
              {
                policy: T.Union([T.Literal("DISABLED"), T.Literal("REQUIRE_SET")], {
                  default: "DISABLED",
                  description:
                    "transparency-log check: DISABLED, or REQUIRE_SET (needs COSIGN_BUNDLE and publicKey)",
                }),
                publicKey: T.String({ default: "", description: "PEM of the Rekor log's public key" }),
              },
              { default: {} },
            ),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    maintenance: T.Object(
      {
        enabled: T.Boolean({
          default: false,
          description: "start in global maintenance (no scheduling for any group)",
        }),
        message: T.String({
          default: "The network is currently under maintenance.",
          description: "message shown to players while maintenance is on",
        }),
      },
      { default: {} },
    ),
    backup: T.Object(
      {
        directory: T.String({
          default: "backups",
          description: "where backup bundles are written, relative to the install root",
        }),
        retentionCount: T.Integer({
          minimum: 1,
          default: 10,
          description: "bundles kept; older ones are pruned after each backup",
        }),
        /** "" (off), an interval ("30m", "6h", "1d") or a 5-field cron expression, in UTC */
        schedule: T.String({
          default: "",
          description:
            "automatic backups: blank (off), an interval (30m, 6h, 1d) or a 5-field cron expression, in UTC",
        }),
        scope: T.Union([T.Literal("mongo"), T.Literal("full")], {
          default: "full",
          description:
            "what a scheduled backup contains: mongo (the store) or full (store, templates, artifacts, config)",
        }),
      },
      { default: {} },
    ),
    cluster: T.Object(
      {
        id: T.Union([T.String(), T.Null()], {
          default: null,
          description:
            "pins the cluster: a controller whose store belongs to another cluster refuses to start",
        }),
      },
      { default: {} },
    ),
    networks: T.Array(T.Record(T.String(), T.Unknown()), {
      default: [],
      description: "network compositions (proxy group, lobby group, fallbacks) seeded on first start",
    }),
    events: T.Array(T.Record(T.String(), T.Unknown()), {
      default: [],
      description: "event subscriptions (webhooks) seeded on first start",
    }),
  },
  { default: {} },
);

export type ControllerConfig = Static<typeof ControllerConfigSchema>;
