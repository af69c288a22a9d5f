import { systemClock } from "../../core/clock.ts";
import { branch, leaf } from "../command-kit.ts";
import { type ContextEntry, configPath, loadConfig, saveConfig } from "../config-store.ts";
import { CliError, EXIT } from "../errors.ts";
import { printDone, printList } from "../output/render.ts";
import { readStdin, secretFromStdin } from "../prompt.ts";
import { normalizeServer } from "../session.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function requireContext(name: string) {
  const file = configPath();
  const config = loadConfig(file);
  if (!config.contexts[name])
    throw new CliError(`context "${name}" does not exist`, EXIT.NOT_FOUND, "hint: `prexorctl context list`");
  return { file, config };
}

function tokenState(entry: ContextEntry): string {
  if (!entry.token) return "none";
  if (entry.tokenExpiresAt && Date.parse(entry.tokenExpiresAt) < systemClock.now()) return "expired";
  return "yes";
}

const add = leaf({
  name: "add",
  description: "Add a context: a name for a controller URL (and optionally a token)",
  examples: [
    "prexorctl context add prod --server https://cloud.example.com",
    'printf %s "$TOKEN" | prexorctl context add ci --server http://10.0.0.5:8080 --token-stdin',
  ],
  args: {
    name: { type: "positional", required: true, description: "context name" },
    username: { type: "string", description: "default username for `login`" },
    "token-stdin": { type: "boolean", description: "read a bearer token from stdin and store it" },
    use: { type: "boolean", description: "make it the current context" },
  },
  async run({ args, out }) {
    if (!NAME.test(args.name)) throw new CliError(`"${args.name}" is not a valid context name`, EXIT.USAGE);
    if (!args.server) throw new CliError("--server is required", EXIT.USAGE);
    const file = configPath();
    const config = loadConfig(file);
    if (config.contexts[args.name])
      throw new CliError(`context "${args.name}" already exists`, EXIT.CONFLICT, "hint: remove it first");
    const token = args["token-stdin"] ? secretFromStdin(await readStdin()).trim() : undefined;
    config.contexts[args.name] = {
      server: normalizeServer(args.server),
      ...(args.username ? { username: args.username } : {}),
      ...(token ? { token } : {}),
    };
    if (args.use || !config.currentContext) config.currentContext = args.name;
    saveConfig(file, config);
    printDone(
      out,
      `Context "${args.name}" added${config.currentContext === args.name ? " and is current" : ""}.`,
      {
        name: args.name,
        ...config.contexts[args.name],
        token: token ? "(stored)" : undefined,
      },
    );
  },
});

const use = leaf({
  name: "use",
  description: "Make a context the current one",
  examples: ["prexorctl context use prod"],
  args: { name: { type: "positional", required: true, description: "context name" } },
  run({ args, out }) {
    const { file, config } = requireContext(args.name);
    config.currentContext = args.name;
    saveConfig(file, config);
    printDone(out, `Switched to context "${args.name}" (${config.contexts[args.name]!.server}).`, {
      currentContext: args.name,
    });
  },
});

const list = leaf({
  name: "list",
  description: "List contexts; * marks the current one",
  examples: ["prexorctl context list", "prexorctl context list -o json"],
  run({ out }) {
    const config = loadConfig(configPath());
    const rows = Object.entries(config.contexts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, entry]) => ({
        current: config.currentContext === name,
        name,
        server: entry.server,
        username: entry.username ?? null,
        token: tokenState(entry),
        tokenExpiresAt: entry.tokenExpiresAt ?? null,
      }));
    printList(
      out,
      rows,
      [
        { header: "current", value: (r) => (r.current ? "*" : "") },
        { header: "name", value: (r) => r.name },
        { header: "server", value: (r) => r.server },
        { header: "user", value: (r) => r.username },
        { header: "token", value: (r) => r.token, color: (t, s) => (t === "expired" ? s.red(t) : t) },
        { header: "expires", value: (r) => r.tokenExpiresAt, wide: true },
      ],
      { what: "context", name: (r) => r.name },
    );
  },
});

const current = leaf({
  name: "current",
  description: "Print the current context's name",
  examples: ["prexorctl context current"],
  run({ out }) {
    const config = loadConfig(configPath());
    if (!config.currentContext)
      throw new CliError(
        "no current context",
        EXIT.ERROR,
        "hint: `prexorctl login` or `prexorctl context use NAME`",
      );
    printDone(out, config.currentContext, {
      currentContext: config.currentContext,
      ...config.contexts[config.currentContext],
      token: undefined,
    });
  },
});

const remove = leaf({
  name: "remove",
  description: "Remove a context and the token stored in it",
  examples: ["prexorctl context remove staging"],
  args: { name: { type: "positional", required: true, description: "context name" } },
  run({ args, out }) {
    const { file, config } = requireContext(args.name);
    delete config.contexts[args.name];
    if (config.currentContext === args.name) delete config.currentContext;
    saveConfig(file, config);
    printDone(out, `Context "${args.name}" removed.`, { removed: args.name });
  },
});

export const contextCommand = branch({
  name: "context",
  description: "Manage contexts (controller URL + credentials) in ~/.config/prexorctl/config.yml",
  examples: ["prexorctl context list", "prexorctl context use prod"],
  subCommands: { add, use, list, current, remove },
});
