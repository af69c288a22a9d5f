import { type ArgsDef, type CommandDef, renderUsage, runCommand } from "citty";
import { ConfigError } from "../config/issues.ts";
import { AppError } from "../core/errors.ts";

/** Exit codes shared by every role: 0 ok, 1 failure, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

type AnyCommand = CommandDef<ArgsDef>;

async function resolveValue<T>(value: T | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : value;
}

/**
 * citty accepts any flag and prints its own errors; operators need typos caught. This walks the
 * sub-command chain, rejects unknown sub-commands and flags with the usage text and exit code 2,
 * then hands over to citty.
 */
export async function runStrict(root: AnyCommand, rawArgs: string[]): Promise<number> {
  let cmd = root;
  let parent: AnyCommand | undefined;
  let rest = [...rawArgs];
  for (;;) {
    const subs = await resolveValue(cmd.subCommands);
    const first = rest.findIndex((a) => !a.startsWith("-"));
    if (!subs || first !== 0) break;
    const name = rest[0]!;
    const sub = (subs as Record<string, AnyCommand | (() => Promise<AnyCommand>)>)[name];
    if (!sub) return usage(cmd, parent, `unknown command "${name}"`);
    parent = cmd;
    cmd = (await resolveValue(sub)) as AnyCommand;
    rest = rest.slice(1);
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(plain(await renderUsage(cmd, parent), process.stdout));
    return EXIT_OK;
  }
  const subs = await resolveValue(cmd.subCommands);
  if (subs && !cmd.run)
    return usage(cmd, parent, rest.length > 0 ? `unknown command "${rest[0]}"` : "a command is required");
  const problem = await checkFlags(cmd, rest);
  if (problem) return usage(cmd, parent, problem);
  try {
    const result = await runCommand(cmd, { rawArgs: rawArgs.slice(rawArgs.length - rest.length) });
    return typeof result.result === "number" ? result.result : EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === "EARG")
      return usage(cmd, parent, (err as Error).message);
    return report(err);
  }
}

async function checkFlags(cmd: AnyCommand, args: string[]): Promise<string | undefined> {
  const defs = ((await resolveValue(cmd.args)) ?? {}) as Record<
    string,
    { type?: string; alias?: string | string[] }
  >;
  const known = new Map<string, { type?: string }>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    known.set(name, def);
    known.set(
      name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      def,
    );
    for (const alias of [def.alias ?? []].flat()) known.set(alias, def);
  }
  const positionals = Object.values(defs).filter((d) => d.type === "positional").length;
  let seenPositionals = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") {
      seenPositionals++;
      if (seenPositionals > positionals) return `unexpected argument "${arg}"`;
      continue;
    }
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    const def = known.get(name) ?? (name.startsWith("no-") ? known.get(name.slice(3)) : undefined);
    if (!def) return `unknown flag "${arg.split("=")[0]}"`;
    if (def.type === "string" && !arg.includes("=")) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) return `flag "${arg}" needs a value`;
      i++;
    }
  }
  return undefined;
}

/** citty colours its usage text unconditionally; pipes, logs and NO_COLOR get it plain. */
export function plain(text: string, stream: NodeJS.WriteStream): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return stream.isTTY && !process.env.NO_COLOR ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function usage(cmd: AnyCommand, parent: AnyCommand | undefined, message: string): Promise<number> {
  console.error(plain(await renderUsage(cmd, parent), process.stderr));
  console.error(`\nerror: ${message}`);
  return EXIT_USAGE;
}

/** Known failures print one clear message; anything else prints its stack for the bug report. */
export function report(err: unknown): number {
  if (err instanceof ConfigError) {
    console.error(err.message);
    return EXIT_FAILURE;
  }
  if (err instanceof AppError) {
    console.error(`error: ${err.message}`);
    return EXIT_FAILURE;
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return EXIT_FAILURE;
}
