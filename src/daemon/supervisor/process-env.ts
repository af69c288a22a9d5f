/** Host variables an instance inherits; everything else in the daemon's environment stays private. */
export const INHERITED_ENV = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME"] as const;

export interface InstanceEnvContext {
  readonly instanceId: string;
  readonly group: string;
  readonly nodeId: string;
  readonly port: number;
  readonly cpuReservation: number;
  readonly diskReservationMb: number;
  /** The plan's env: group env plus CLOUD_CONTROLLER_URL. */
  readonly planEnv: Readonly<Record<string, string>>;
  readonly pluginToken?: string;
  readonly rcon?: { readonly port: number; readonly password: string };
  /** Where inherited values come from (the daemon's own environment by default). */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  readonly inherit?: readonly string[];
}

/**
 * The environment of an instance process. Only an allow-list of host variables is passed on (the
 * daemon's own environment may hold credentials), then the group's env, then the cloud's identity
 * variables, which the group env cannot override: a plugin must be able to trust CLOUD_PORT.
 */
export function instanceEnvironment(context: InstanceEnvContext): Record<string, string> {
  const host = context.hostEnv ?? process.env;
  const env: Record<string, string> = {};
  for (const name of context.inherit ?? INHERITED_ENV) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, context.planEnv, {
    CLOUD_INSTANCE_ID: context.instanceId,
    CLOUD_GROUP: context.group,
    CLOUD_PORT: String(context.port),
    CLOUD_NODE_ID: context.nodeId,
    CLOUD_CPU_RESERVATION: String(context.cpuReservation),
    CLOUD_DISK_RESERVATION_MB: String(context.diskReservationMb),
  });
  if (context.pluginToken !== undefined) env.CLOUD_PLUGIN_TOKEN = context.pluginToken;
  if (context.rcon !== undefined) {
    env.CLOUD_RCON_PORT = String(context.rcon.port);
    env.CLOUD_RCON_PASSWORD = context.rcon.password;
  }
  return env;
}
