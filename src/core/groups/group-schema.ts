import { Kind, type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { RESOURCE_NAME_HINT, RESOURCE_NAME_PATTERN } from "../names.ts";

/**
 * A group as operators write it (REST body, `-f group.yml`). Defaults are the product's; fields
 * that upstream kept but ignored (predictive scaling, routing) are not carried.
 */
const Name = T.String({ pattern: RESOURCE_NAME_PATTERN, description: RESOURCE_NAME_HINT });
const Label = T.String({ pattern: "^[A-Za-z0-9._/-]{1,63}(=[A-Za-z0-9._/-]{0,63})?$" });
const Names = T.Array(Name, { maxItems: 64, default: [] });
const Upper = (values: string[], def: string) =>
  T.Union(
    values.map((v) => T.Literal(v)),
    { default: def },
  );

export const PLATFORMS = [
  "PAPER",
  "PURPUR",
  "SPIGOT",
  "FOLIA",
  "FABRIC",
  "NEOFORGE",
  "VELOCITY",
  "BUNGEECORD",
  "WATERFALL",
  "GEYSER",
  "CUSTOM",
];

export const GroupFields = {
  parent: T.Union([Name, T.Null()], { default: null }),
  platform: Upper(PLATFORMS, "PAPER"),
  platformVersion: T.String({ maxLength: 64, default: "" }),
  jarFile: T.String({ pattern: "^[A-Za-z0-9._-]{1,128}$", default: "server.jar" }),
  templates: Names,
  scalingMode: Upper(["STATIC", "DYNAMIC", "MANUAL"], "DYNAMIC"),
  minInstances: T.Integer({ minimum: 0, maximum: 10_000, default: 0 }),
  maxInstances: T.Integer({ minimum: 0, maximum: 10_000, default: 10 }),
  maxPlayers: T.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
  scaleUpThreshold: T.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.8 }),
  scaleDownAfterSeconds: T.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
  scaleCooldownSeconds: T.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  portRangeStart: T.Integer({ minimum: 1, maximum: 65_535, default: 30_000 }),
  portRangeEnd: T.Integer({ minimum: 1, maximum: 65_535, default: 30_100 }),
  startupTimeoutSeconds: T.Integer({ minimum: 1, maximum: 3600, default: 120 }),
  shutdownGraceSeconds: T.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  maxLifetimeSeconds: T.Integer({ minimum: 0, default: 0 }),
  static: T.Boolean({ default: false }),
  staticInstanceNames: T.Array(T.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,63}$" }), {
    maxItems: 1000,
    default: [],
  }),
  protectedPaths: T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 256, default: [] }),
  fallbackGroup: T.Union([Name, T.Null()], { default: null }),
  defaultGroup: T.Boolean({ default: false }),
  dependsOn: Names,
  startupWeight: T.Integer({ default: 0 }),
  maintenance: T.Boolean({ default: false }),
  maintenanceMessage: T.String({ maxLength: 512, default: "" }),
  maintenanceBypass: T.Array(T.String({ format: "uuid" }), { maxItems: 1000, default: [] }),
  updateStrategy: Upper(["ROLLING", "CANARY"], "ROLLING"),
  nodeAffinity: T.Array(Label, { maxItems: 32, default: [] }),
  nodeAntiAffinity: T.Array(Label, { maxItems: 32, default: [] }),
  spreadConstraint: T.String({ maxLength: 63, default: "" }),
  priority: T.Integer({ minimum: -1000, maximum: 1000, default: 0 }),
  memoryMb: T.Integer({ minimum: 64, maximum: 1_048_576, default: 1024 }),
  cpuReservation: T.Number({ minimum: 0, maximum: 1, default: 0 }),
  diskReservationMb: T.Integer({ minimum: 0, default: 0 }),
  jvmArgs: T.Array(T.String({ maxLength: 512 }), { maxItems: 64, default: [] }),
  env: T.Record(T.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$" }), T.String({ maxLength: 4096 }), {
    default: {},
  }),
  motds: T.Array(T.String({ maxLength: 512 }), { maxItems: 32, default: [] }),
  configPatches: T.Record(
    T.String({ minLength: 1, maxLength: 256 }),
    T.Record(T.String({ minLength: 1 }), T.Unknown()),
    { default: {} },
  ),
  readiness: Upper(["AUTO", "PLUGIN", "CONSOLE", "PING"], "AUTO"),
  acceptEula: T.Boolean({
    default: false,
    description:
      "this group accepts the Minecraft EULA (controller.yml minecraft.acceptEula does it for all)",
  }),
  argvTemplate: T.Array(T.String({ maxLength: 1024 }), {
    maxItems: 64,
    default: [],
    description: "CUSTOM platform: the command to run",
  }),
};

export const GroupCreateSchema = T.Object({ name: Name, ...GroupFields }, { additionalProperties: false });
/** A patch names only what changes: no defaults here, or validation would fill every absent field. */
function withoutDefaults<S extends Record<string, TSchema>>(fields: S): S {
  return Object.fromEntries(
    Object.entries(fields).map(([key, schema]) => {
      const { default: _d, ...rest } = schema as TSchema & { default?: unknown };
      return [key, { ...rest, [Kind]: schema[Kind] } as TSchema];
    }),
  ) as S;
}

export const GroupPatchSchema = T.Partial(
  T.Object(withoutDefaults(GroupFields), { additionalProperties: false }),
  {
    additionalProperties: false,
    minProperties: 1,
  },
);

export type GroupSpec = Static<typeof GroupCreateSchema>;
export type GroupPatch = Static<typeof GroupPatchSchema>;
