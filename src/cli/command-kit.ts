import { type ArgsDef, type CommandDef, defineCommand, type ParsedArgs } from "citty";
import type { Api } from "./client/api.ts";
import { EXIT, explain } from "./errors.ts";
import { type Output, parseFormat } from "./output/render.ts";
import { colorWanted, makeStyle } from "./output/style.ts";
import { DEFAULT_TIMEOUT, openSession, type Session } from "./session.ts";

/**
 * Flags every prexorctl command accepts, before or after the command words. They are declared on
 * each leaf (the strict flag check needs them there) and hidden from per-command help.
 */
export const GLOBAL_ARGS = {
  context: { type: "string", description: "context to use (default: PREXOR_CONTEXT, then the current one)" },
  server: {
    type: "string",
    alias: "controller",
    description: "controller URL (default: PREXOR_CONTROLLER, then the context's)",
  },
  output: {
    type: "string",
    alias: "o",
    description: "output format: table, wide, json, yaml, name (default: PREXOR_OUTPUT, else table)",
  },
  json: { type: "boolean", alias: "j", description: "same as -o json" },
  headers: { type: "boolean", default: true, negativeDescription: "print tables without the header row" },
  color: {
    type: "boolean",
    default: true,
    negativeDescription: "never colour the output (as NO_COLOR does)",
  },
  "request-timeout": {
    type: "string",
    description: "give up on a request after this long",
    default: DEFAULT_TIMEOUT,
  },
} as const satisfies ArgsDef;

export type GlobalArgs = typeof GLOBAL_ARGS;
export const GLOBAL_FLAG_NAMES = new Set(Object.keys(GLOBAL_ARGS));

export interface Ctx<A extends ArgsDef> {
  args: ParsedArgs<A & GlobalArgs>;
  rawArgs: string[];
  out: Output;
  /** credentials and the typed client; resolved on first use (contexts and completion need none) */
  session(): Session;
  api(): Api;
}

/** Examples shown under EXAMPLES in `--help`; every command must have one (a test checks). */
const EXAMPLES = new WeakMap<object, readonly string[]>();

export function examplesOf(cmd: CommandDef<ArgsDef>): readonly string[] {
  return EXAMPLES.get(cmd) ?? [];
}

/** The global flags as parsed, whatever the command's own flags are. */
interface GlobalValues {
  context?: string;
  server?: string;
  output?: string;
  json?: boolean;
  headers?: boolean;
  color?: boolean;
  "request-timeout"?: string;
}

export function outputFor(args: GlobalValues): Output {
  return {
    format: args.json ? "json" : parseFormat(args.output || process.env.PREXOR_OUTPUT),
    headers: args.headers !== false,
    style: makeStyle(colorWanted(process.stdout, args.color)),
    // console.log, not process.stdout.write: it is flushed before main() calls process.exit.
    print: (text) => console.log(text),
    note: (text) => console.error(text),
  };
}

/** A command that does something. Errors become one clear message and a stable exit code. */
export function leaf<const A extends ArgsDef>(def: {
  name: string;
  description: string;
  examples: readonly string[];
  args?: A;
  /** a number is the exit code; anything else means success */
  run(ctx: Ctx<A>): unknown;
}): CommandDef<A & GlobalArgs> {
  const cmd = defineCommand({
    meta: { name: def.name, description: def.description },
    args: { ...(def.args ?? ({} as A)), ...GLOBAL_ARGS } as A & GlobalArgs,
    async run({ args, rawArgs }) {
      try {
        const globals = args as GlobalValues;
        const out = outputFor(globals);
        let session: Session | undefined;
        const getSession = () => {
          session ??= openSession({
            context: globals.context,
            server: globals.server,
            requestTimeout: globals["request-timeout"],
          });
          return session;
        };
        const result = await def.run({
          args: args as ParsedArgs<A & GlobalArgs>,
          rawArgs,
          out,
          session: getSession,
          api: () => getSession().api,
        });
        return typeof result === "number" ? result : EXIT.OK;
      } catch (err) {
        const { exitCode, lines } = explain(err);
        for (const line of lines) console.error(line);
        return exitCode;
      }
    },
  });
  EXAMPLES.set(cmd, def.examples);
  return cmd as CommandDef<A & GlobalArgs>;
}

/** A command that only holds sub-commands (`group`, `node`, …). */
export function branch(def: {
  name: string;
  description: string;
  examples: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: citty's own SubCommandsDef uses CommandDef<any>
  subCommands: Record<string, CommandDef<any>>;
}): CommandDef<ArgsDef> {
  const cmd = defineCommand({
    meta: { name: def.name, description: def.description },
    subCommands: def.subCommands,
  });
  EXAMPLES.set(cmd, def.examples);
  return cmd;
}
