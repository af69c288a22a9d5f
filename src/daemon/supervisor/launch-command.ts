import type { InstanceCategory } from "../../core/plan/index.ts";
import { substitutePlaceholders } from "../../core/templates/index.ts";

/**
 * How an instance's process is started: the platform jar on a JVM (every real platform), or an
 * operator-defined command line for anything else (`custom`; also how tests run a non-JVM server).
 */
export type LaunchSpec =
  | { readonly kind: "jvm"; readonly javaPath?: string }
  | {
      readonly kind: "custom";
      /** argv with `{PLACEHOLDER}`s, see `launchPlaceholders`. */
      readonly argv: readonly string[];
      /** Console command for a graceful stop; defaults by category. */
      readonly stopCommand?: string;
    };

export interface JvmLaunch {
  readonly javaPath: string;
  readonly memoryMb: number;
  readonly jvmArgs: readonly string[];
  /** Path of the jar, relative to the instance directory (the working directory). */
  readonly jarFile: string;
  readonly category: InstanceCategory;
  readonly port: number;
}

/**
 * `java {jvmArgs} -Xmx{m}M -Xms{m/2}M -jar {jar} [--port {port} nogui]`.
 *
 * The heap flags come after the group's JVM arguments on purpose: HotSpot takes the last occurrence,
 * and the plan's `memoryMb` is what the scheduler admitted the instance with, so a stray `-Xmx` in
 * `jvmArgs` must not be able to exceed it. Proxies take neither `--port` nor `nogui`.
 */
export function jvmArgv(launch: JvmLaunch): string[] {
  if (!Number.isInteger(launch.memoryMb) || launch.memoryMb < 1) {
    throw new Error(`invalid memoryMb ${launch.memoryMb}`);
  }
  const argv = [
    launch.javaPath,
    ...launch.jvmArgs,
    `-Xmx${launch.memoryMb}M`,
    `-Xms${Math.max(1, Math.floor(launch.memoryMb / 2))}M`,
    "-jar",
    launch.jarFile,
  ];
  if (launch.category === "SERVER") argv.push("--port", String(launch.port), "nogui");
  return argv;
}

export interface LaunchPlaceholderContext {
  readonly instanceId: string;
  readonly group: string;
  readonly nodeId: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly instanceDir: string;
  /** Absolute path of the runtime artifact inside the instance directory, when there is one. */
  readonly jarPath?: string;
  readonly rconPort?: number;
  readonly rconPassword?: string;
}

/** Values for `{NAME}` in a custom argv. */
export function launchPlaceholders(context: LaunchPlaceholderContext): Record<string, string> {
  const values: Record<string, string> = {
    PORT: String(context.port),
    INSTANCE_ID: context.instanceId,
    INSTANCE_DIR: context.instanceDir,
    GROUP: context.group,
    NODE_ID: context.nodeId,
    MEMORY: String(context.memoryMb),
  };
  if (context.jarPath !== undefined) values.JAR = context.jarPath;
  if (context.rconPort !== undefined) values.RCON_PORT = String(context.rconPort);
  if (context.rconPassword !== undefined) values.RCON_PASSWORD = context.rconPassword;
  return values;
}

/**
 * Expands a custom argv template. Each element stays one argument whatever the values contain (no
 * shell is involved, so a value with spaces or quotes cannot inject anything). A placeholder with no
 * value is an error: launching with a literal `{RCON_PORT}` would fail later and less clearly.
 */
export function expandArgv(template: readonly string[], values: Readonly<Record<string, string>>): string[] {
  if (template.length === 0) throw new Error("custom launch argv is empty");
  return template.map((arg) => {
    const expanded = substitutePlaceholders(arg, values, ["brace"]);
    const unresolved = /\{([A-Z][A-Z0-9_]*)\}/.exec(expanded);
    if (unresolved && !Object.hasOwn(values, unresolved[1]!) && arg.includes(unresolved[0])) {
      throw new Error(`launch argv ${JSON.stringify(arg)} uses {${unresolved[1]}}, which has no value`);
    }
    return expanded;
  });
}

/** The console command that stops the platform gracefully. */
export function stopCommandFor(category: InstanceCategory, platform: string): string {
  const proxy =
    category === "PROXY" || ["VELOCITY", "BUNGEECORD", "WATERFALL"].includes(platform.toUpperCase());
  return proxy ? "end" : "stop";
}
