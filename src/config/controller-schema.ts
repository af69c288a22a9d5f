import { type Static, Type as T } from "@sinclair/typebox";

/**
 * controller.yml. Defaults follow the product's documented defaults; keys that v1.1's Raft used are
 * deliberately absent (we coordinate through Valkey leases, not consensus).
 */
const Port = (def: number) => T.Integer({ minimum: 1, maximum: 65535, default: def });
const Level = T.Union(
  [T.Literal("TRACE"), T.Literal("DEBUG"), T.Literal("INFO"), T.Literal("WARN"), T.Literal("ERROR")],
  {
    default: "INFO",
  },
);
const Origin = T.String({ pattern: "^https?://", description: "an http:// or https:// origin" });
const Cidr = T.String({ minLength: 1, description: "a CIDR such as 10.0.0.0/8 or ::/0" });

export const ControllerConfigSchema = T.Object(
  {
    uuid: T.String({ default: "", description: "controller id; generated on first start when blank" }),
    runtime: T.Object(
      {
        profile: T.Union([T.Literal("development"), T.Literal("production")], { default: "development" }),
        dataDir: T.String({
          default: "data",
          description: "embedded store and runtime files, relative to the install root",
        }),
      },
      { default: {} },
    ),
    http: T.Object(
      {
        host: T.String({ default: "0.0.0.0" }),
        port: Port(8080),
        maxBodyBytes: T.Integer({ minimum: 1024, default: 1048576 }),
        trustedProxyCidrs: T.Array(Cidr, { default: [] }),
        cors: T.Object(
          { allowedOrigins: T.Array(Origin, { default: ["http://localhost:3000"] }) },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    grpc: T.Object(
      {
        host: T.String({ default: "0.0.0.0" }),
        port: Port(9090),
        advertiseHosts: T.Array(T.String(), {
          default: [],
          description: "extra DNS names / IPs for the server certificate",
        }),
      },
      { default: {} },
    ),
    network: T.Object({ allowedSubnets: T.Array(Cidr, { default: ["0.0.0.0/0", "::/0"] }) }, { default: {} }),
    database: T.Object(
      {
        driver: T.Union([T.Literal("auto"), T.Literal("embedded"), T.Literal("mongodb")], {
          default: "auto",
          description: "auto: embedded in development, mongodb in production",
        }),
        uri: T.String({ minLength: 1, default: "mongodb://localhost:27017" }),
        database: T.String({ minLength: 1, default: "prexorcloud" }),
        connectTimeoutMs: T.Integer({ minimum: 100, default: 5000 }),
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
        uri: T.String({ minLength: 1, default: "redis://localhost:6379" }),
        connectTimeoutMs: T.Integer({ minimum: 100, default: 5000 }),
      }),
    ),
    logging: T.Object(
      { level: Level, format: T.Union([T.Literal("HUMAN"), T.Literal("JSON")], { default: "HUMAN" }) },
      { default: {} },
    ),
    scheduler: T.Object(
      {
        evaluationIntervalSeconds: T.Integer({ minimum: 1, default: 15 }),
        scalingCooldownSeconds: T.Integer({ minimum: 0, default: 60 }),
        nodeTimeoutSeconds: T.Integer({ minimum: 1, default: 90 }),
        auditRetentionDays: T.Integer({ minimum: 1, default: 90 }),
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
        missedThreshold: T.Integer({ minimum: 1, default: 3 }),
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
        jwtExpirationMinutes: T.Integer({ minimum: 1, maximum: 43200, default: 1440 }),
        jwtPreviousSecrets: T.Array(T.String(), { default: [] }),
        initialAdminPassword: T.String({ default: "" }),
        rateLimiting: T.Object(
          {
            perIpPerMinute: T.Integer({ minimum: 1, default: 100 }),
            perUserPerMinute: T.Integer({ minimum: 1, default: 300 }),
            loginPerIpPerMinute: T.Integer({ minimum: 1, default: 10 }),
            failOpenOnRedisError: T.Boolean({ default: false }),
          },
          { default: {} },
        ),
        lockout: T.Object(
          {
            enabled: T.Boolean({ default: true }),
            /** failures from one source address that lock the account for that address */
            maxAttempts: T.Integer({ minimum: 1, default: 5 }),
            /** failures from all addresses together that lock the account everywhere */
            accountMaxAttempts: T.Integer({ minimum: 1, default: 100 }),
            windowSeconds: T.Integer({ minimum: 1, default: 900 }),
            lockoutSeconds: T.Integer({ minimum: 1, default: 900 }),
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
              pattern: "^https?://",
              default: "https://fill.papermc.io",
              description:
                "the API's origin (v2: https://api.papermc.io); point it at a mirror or a test server",
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
        ringBufferSize: T.Integer({ minimum: 1, default: 500 }),
        crashLoopThreshold: T.Integer({ minimum: 1, default: 3 }),
        crashLoopWindowSeconds: T.Integer({ minimum: 1, default: 300 }),
      },
      { default: {} },
    ),
    metrics: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        retentionHours: T.Integer({ minimum: 1, default: 168 }),
        collectionIntervalSeconds: T.Integer({ minimum: 1, default: 30 }),
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
        directory: T.String({ default: "modules" }),
        dataDirectory: T.String({ default: "modules/data" }),
        registries: T.Array(T.String(), { default: [] }),
        signing: T.Object(
          {
            required: T.Optional(
              T.Boolean({ description: "defaults to true in production, false in development" }),
            ),
            mode: T.Union([T.Literal("KEYED"), T.Literal("COSIGN_BUNDLE")], { default: "KEYED" }),
            trustRoot: T.String({ default: "" }),
            allowUnsignedDevelopment: T.Boolean({ default: true }),
            rekor: T.Object(
              {
                policy: T.Union([T.Literal("DISABLED"), T.Literal("REQUIRE_SET")], { default: "DISABLED" }),
                publicKey: T.String({ default: "" }),
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
        enabled: T.Boolean({ default: false }),
        message: T.String({ default: "The network is currently under maintenance." }),
      },
      { default: {} },
    ),
    backup: T.Object(
      {
        directory: T.String({ default: "backups" }),
        retentionCount: T.Integer({ minimum: 1, default: 10 }),
        /** "" (off), an interval ("30m", "6h", "1d") or a 5-field cron expression, in UTC */
        schedule: T.String({ default: "" }),
        scope: T.Union([T.Literal("mongo"), T.Literal("full")], { default: "full" }),
      },
      { default: {} },
    ),
    cluster: T.Object({ id: T.Union([T.String(), T.Null()], { default: null }) }, { default: {} }),
    networks: T.Array(T.Record(T.String(), T.Unknown()), { default: [] }),
    events: T.Array(T.Record(T.String(), T.Unknown()), { default: [] }),
  },
  { default: {} },
);

export type ControllerConfig = Static<typeof ControllerConfigSchema>;
