import type { NetworkSpec } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { parseList } from "../parse.ts";
import { readSpecFile } from "../spec-file.ts";

const NAME_ARG = { type: "positional", required: true, description: "network name" } as const;

const FIELD_FLAGS = {
  lobby: { type: "string", description: "group players join first" },
  fallback: { type: "string", description: "comma-separated fallback groups, in order" },
  members: { type: "string", description: "comma-separated member groups" },
  proxies: { type: "string", description: "comma-separated proxy groups" },
  "kick-message": { type: "string", description: "shown when no server is available" },
  description: { type: "string", description: "what the network is" },
  "bedrock-lobby": { type: "string", description: "lobby group for Bedrock players" },
  "bedrock-fallback": { type: "string", description: "comma-separated Bedrock fallback groups" },
  file: {
    type: "string",
    alias: "f",
    description: "read the network from a YAML or JSON file (- for stdin)",
  },
} as const;

type FieldArgs = { [K in keyof typeof FIELD_FLAGS]?: string };

function fieldsFromFlags(args: FieldArgs): Partial<NetworkSpec> {
  const fields: Record<string, unknown> = {
    lobbyGroup: args.lobby,
    fallbackGroups: parseList(args.fallback),
    memberGroups: parseList(args.members),
    proxyGroups: parseList(args.proxies),
    kickMessage: args["kick-message"],
    description: args.description,
    bedrockLobbyGroup: args["bedrock-lobby"],
    bedrockFallbackGroups: parseList(args["bedrock-fallback"]),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const columns: Column<NetworkSpec>[] = [
  { header: "name", value: (n) => n.name },
  { header: "lobby", value: (n) => n.lobbyGroup },
  { header: "fallbacks", value: (n) => n.fallbackGroups.join(",") },
  { header: "members", value: (n) => n.memberGroups.join(",") },
  { header: "proxies", value: (n) => n.proxyGroups.join(",") },
  { header: "description", value: (n) => n.description, wide: true },
];

const create = leaf({
  name: "create",
  description: "Create a network composition (how proxies route players across groups)",
  examples: [
    "prexorctl network create main --lobby lobby --fallback lobby-backup --proxies proxy",
    "prexorctl network create -f network.yml",
  ],
  args: { name: { ...NAME_ARG, required: false }, ...FIELD_FLAGS },
  async run({ args, api, out }) {
    const fromFile = args.file ? (await readSpecFile(args.file)).value : {};
    const body = { ...fromFile, ...fieldsFromFlags(args), ...(args.name ? { name: args.name } : {}) };
    if (typeof body.name !== "string") throw new CliError("a network name is required", EXIT.USAGE);
    const network = await api().networks.create(body);
    printDone(out, `network "${network.name}" created`, network);
  },
});

const list = leaf({
  name: "list",
  description: "List network compositions",
  examples: ["prexorctl network list"],
  async run({ api, out }) {
    printList(out, await api().networks.list(), columns, { what: "network", name: (n) => n.name });
  },
});

const info = leaf({
  name: "info",
  description: "Show one network composition",
  examples: ["prexorctl network info main -o yaml"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().networks.get(args.name));
  },
});

const update = leaf({
  name: "update",
  description: "Change a network: the flags given (or the file's fields) replace those fields",
  examples: [
    "prexorctl network update main --fallback lobby-2,lobby-3",
    "prexorctl network update main -f network.yml",
  ],
  args: { name: NAME_ARG, ...FIELD_FLAGS },
  async run({ args, api, out }) {
    const fromFile = args.file ? (await readSpecFile(args.file)).value : {};
    const changes = { ...fromFile, ...fieldsFromFlags(args) };
    if (Object.keys(changes).length === 0) throw new CliError("nothing to change", EXIT.USAGE);
    // The API replaces the whole document (PUT), so unchanged fields come from the current one.
    const current = await api().networks.get(args.name);
    const network = await api().networks.replace(args.name, {
      ...current,
      ...changes,
      name: args.name,
    } as NetworkSpec);
    printDone(out, `network "${network.name}" updated`, network);
  },
});

const remove = leaf({
  name: "delete",
  description: "Delete a network composition",
  examples: ["prexorctl network delete staging"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    printDone(out, `network "${args.name}" deleted`, await api().networks.delete(args.name));
  },
});

export const networkCommand = branch({
  name: "network",
  description: "Manage network compositions (lobby, fallbacks, proxies)",
  examples: ["prexorctl network list", "prexorctl network create main --lobby lobby --proxies proxy"],
  subCommands: { create, list, info, update, delete: remove },
});
