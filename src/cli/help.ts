import { type ArgsDef, renderUsage } from "citty";
import { examplesOf, GLOBAL_ARGS, GLOBAL_FLAG_NAMES } from "./command-kit.ts";
import { type AnyCommand, argsOf, flagSpellings, subCommandsOf } from "./command-tree.ts";

/** The global flags, once, in the same two-column shape citty uses for a command's own. */
function globalSection(): string {
  const rows = new Map<string, string>();
  // Booleans that default on are only worth showing in their --no- form.
  for (const s of flagSpellings(GLOBAL_ARGS).filter((f) => f.description !== "")) {
    const key = s.description;
    rows.set(key, rows.has(key) ? `${rows.get(key)}, ${s.flag}` : s.flag);
  }
  const pairs = [...rows].map(([description, flags]) => [flags, description] as const);
  const width = Math.max(...pairs.map(([f]) => f.length));
  return `GLOBAL OPTIONS\n\n${pairs.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`).join("\n")}`;
}

/**
 * citty's usage text plus what it lacks: an EXAMPLES section and one line for the global flags
 * (listed once instead of on every command). `path` is the command's words after `prexorctl`.
 */
export async function renderHelp(
  cmd: AnyCommand,
  path: readonly string[],
  program = "prexorctl",
): Promise<string> {
  const local = Object.fromEntries(
    Object.entries(argsOf(cmd)).filter(([name]) => !GLOBAL_FLAG_NAMES.has(name)),
  ) as ArgsDef;
  const shown = { ...cmd, args: local };
  const parentName = [program, ...path.slice(0, -1)].join(" ");
  const usage =
    path.length === 0
      ? await renderUsage({ ...shown, meta: { ...(cmd.meta as object), name: program } })
      : await renderUsage(shown, { meta: { name: parentName } });
  const sections = [usage.trimEnd()];
  const examples = examplesOf(cmd);
  if (examples.length > 0) sections.push(`EXAMPLES\n\n${examples.map((e) => `  ${e}`).join("\n")}`);
  if (!subCommandsOf(cmd)) sections.push(globalSection());
  return `${sections.join("\n\n")}\n`;
}
