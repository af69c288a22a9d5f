import type { TemplateFileMap } from "./template-file.ts";
import { decodeText, encodeText } from "./text-content.ts";

/**
 * Placeholder forms: `%NAME%` (the daemon's instance-time form), `{NAME}` (the form the user docs show)
 * and `{{name}}` (the controller's template-build form, which may carry spaces and dotted names).
 */
export type PlaceholderSyntax = "percent" | "brace" | "double-brace";

export const ALL_PLACEHOLDER_SYNTAXES: readonly PlaceholderSyntax[] = ["percent", "brace", "double-brace"];

const PATTERNS: Readonly<Record<PlaceholderSyntax, string>> = {
  // Longest form first so `{{PORT}}` is never read as `{` + `{PORT}` + `}`.
  "double-brace": String.raw`\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}`,
  brace: String.raw`\{([A-Za-z0-9_]+)\}`,
  percent: "%([A-Za-z0-9_]+)%",
};
const ORDER: readonly PlaceholderSyntax[] = ["double-brace", "brace", "percent"];

/**
 * Replaces every placeholder whose name has a value and leaves unknown ones verbatim (`{}` and `%` are
 * common in configs). One left-to-right pass: a substituted value is never scanned again, so a MOTD
 * that contains `%PORT%` stays literal.
 */
export function substitutePlaceholders(
  text: string,
  values: Readonly<Record<string, string>>,
  syntaxes: readonly PlaceholderSyntax[] = ALL_PLACEHOLDER_SYNTAXES,
): string {
  const active = ORDER.filter((syntax) => syntaxes.includes(syntax));
  if (active.length === 0) return text;
  const pattern = new RegExp(active.map((syntax) => PATTERNS[syntax]).join("|"), "g");
  return text.replace(pattern, (match: string, ...groups: unknown[]) => {
    const name = groups.slice(0, active.length).find((group): group is string => typeof group === "string");
    return name !== undefined && Object.hasOwn(values, name) ? values[name]! : match;
  });
}

/** Substitutes in a text file (decided by content, see `decodeText`); binary bytes come back untouched. */
export function substituteFileBytes(
  bytes: Uint8Array,
  values: Readonly<Record<string, string>>,
  syntaxes: readonly PlaceholderSyntax[] = ALL_PLACEHOLDER_SYNTAXES,
): Uint8Array {
  const text = decodeText(bytes);
  if (text === undefined) return bytes;
  const replaced = substitutePlaceholders(text, values, syntaxes);
  return replaced === text ? bytes : encodeText(replaced);
}

/** `substituteFileBytes` over a whole file map. */
export function substituteTemplateFiles(
  files: TemplateFileMap,
  values: Readonly<Record<string, string>>,
  syntaxes: readonly PlaceholderSyntax[] = ALL_PLACEHOLDER_SYNTAXES,
): Map<string, Uint8Array> {
  return new Map([...files].map(([path, bytes]) => [path, substituteFileBytes(bytes, values, syntaxes)]));
}

export interface InstanceVariableContext {
  readonly instanceId: string;
  readonly group: string;
  readonly port: number;
  readonly nodeId: string;
  readonly memoryMb: number;
  readonly maxPlayers?: number;
  readonly motd?: string;
  readonly forwardingSecret?: string;
  /** Controller-resolved typed variables (`StartInstance.resolved_variables`). */
  readonly resolved?: Readonly<Record<string, string>>;
}

const DEFAULT_MAX_PLAYERS = 100;

/**
 * The values placeholders resolve to for one instance. Built-in names win over resolved variables of the
 * same name, so a template variable can never misreport the instance's port or identity.
 */
export function instanceVariables(context: InstanceVariableContext): Record<string, string> {
  const builtIns: Record<string, string> = {
    PORT: String(context.port),
    INSTANCE_ID: context.instanceId,
    INSTANCE_NAME: context.instanceId,
    GROUP: context.group,
    NODE_ID: context.nodeId,
    MEMORY: String(context.memoryMb),
    MAX_PLAYERS: String(
      context.maxPlayers && context.maxPlayers > 0 ? context.maxPlayers : DEFAULT_MAX_PLAYERS,
    ),
    MOTD: context.motd ?? `PrexorCloud - ${context.group}/${context.instanceId}`,
  };
  if (context.forwardingSecret !== undefined) builtIns.FORWARDING_SECRET = context.forwardingSecret;
  return { ...context.resolved, ...builtIns };
}
