import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { GLOBAL_ARGS } from "./command-kit.ts";

export type AnyCommand = CommandDef<ArgsDef>;

/** prexorctl builds its tree from plain objects, so it can be walked without awaiting. */
export function subCommandsOf(cmd: AnyCommand): Record<string, AnyCommand> | undefined {
  const subs = cmd.subCommands;
  if (!subs || typeof subs === "function" || subs instanceof Promise) return undefined;
  return subs as Record<string, AnyCommand>;
}

export function argsOf(cmd: AnyCommand): ArgsDef {
  const args = cmd.args;
  if (!args || typeof args === "function" || args instanceof Promise) return {};
  return args;
}

export function metaOf(cmd: AnyCommand): { name?: string; description?: string } {
  const meta = cmd.meta;
  if (!meta || typeof meta === "function" || meta instanceof Promise) return {};
  return meta;
}

/** Follows the leading words of argv down the tree; `words` is how many were command names. */
export function locate(root: AnyCommand, argv: readonly string[]): { cmd: AnyCommand; path: string[] } {
  let cmd = root;
  const path: string[] = [];
  for (const word of argv) {
    const next = subCommandsOf(cmd)?.[word];
    if (!next) break;
    cmd = next;
    path.push(word);
  }
  return { cmd, path };
}

/** Every command with its path, parents before children. */
export function listCommands(
  root: AnyCommand,
  path: string[] = [],
): Array<{ path: string[]; cmd: AnyCommand }> {
  const out = [{ path, cmd: root }];
  for (const [name, sub] of Object.entries(subCommandsOf(root) ?? {}))
    out.push(...listCommands(sub, [...path, name]));
  return out;
}

export interface FlagSpelling {
  flag: string;
  takesValue: boolean;
  description: string;
}

/** Flag spellings (with dashes) of a command: names, aliases, `--no-` forms of booleans that default on. */
export function flagSpellings(args: ArgsDef): FlagSpelling[] {
  const out: FlagSpelling[] = [];
  for (const [name, def] of Object.entries(args) as Array<[string, ArgDef]>) {
    if (def.type === "positional") continue;
    const takesValue = def.type === "string" || def.type === "enum";
    const description = def.description ?? "";
    const aliases = [(def as { alias?: string | string[] }).alias ?? []].flat();
    for (const n of [name, ...aliases])
      out.push({ flag: n.length === 1 ? `-${n}` : `--${n}`, takesValue, description });
    if (def.type === "boolean" && def.default === true) {
      const negative = (def as { negativeDescription?: string }).negativeDescription ?? "";
      out.push({ flag: `--no-${name}`, takesValue: false, description: negative });
    }
  }
  return out;
}

const GLOBAL_SPELLINGS = new Map(flagSpellings(GLOBAL_ARGS).map((s) => [s.flag, s.takesValue]));

/**
 * `prexorctl --context prod group list` → `prexorctl group list --context prod`. Global flags may
 * come before the command words (as with kubectl); the strict runner only looks for flags after
 * them, so they are moved behind the words. Anything else before the words is left for the
 * runner to reject.
 */
export function hoistGlobalFlags(root: AnyCommand, argv: readonly string[]): string[] {
  const hoisted: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "--" || arg === "-") break;
    const name = arg.split("=")[0]!;
    const takesValue = GLOBAL_SPELLINGS.get(name);
    if (takesValue === undefined) break;
    hoisted.push(arg);
    if (takesValue && !arg.includes("=") && i + 1 < argv.length) hoisted.push(argv[++i]!);
    i++;
  }
  if (hoisted.length === 0) return [...argv];
  const rest = argv.slice(i);
  const { path } = locate(root, rest);
  return [...path, ...hoisted, ...rest.slice(path.length)];
}
