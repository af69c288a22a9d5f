import type { Api } from "../client/api.ts";
import type { JourneyEntry, Player } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { isMachine, printData, printDone, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age, parseInstant, parseInteger } from "../parse.ts";

const PLAYER_ARG = {
  type: "positional",
  required: true,
  description: "player UUID (or the name of an online player)",
} as const;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const columns: Column<Player>[] = [
  { header: "uuid", value: (p) => p.id },
  { header: "name", value: (p) => p.name },
  { header: "instance", value: (p) => p.currentInstance },
  { header: "group", value: (p) => p.currentGroup },
  { header: "proxy", value: (p) => p.proxyInstance },
  { header: "online", value: (p) => age(p.connectedSince) },
  { header: "edition", value: (p) => p.edition, wide: true },
  { header: "since", value: (p) => p.connectedSince, wide: true },
];

const journeyColumns: Column<JourneyEntry>[] = [
  { header: "time", value: (e) => e.timestamp },
  { header: "event", value: (e) => e.eventType },
  { header: "from", value: (e) => e.fromInstanceId },
  { header: "to", value: (e) => e.toInstanceId },
  { header: "group", value: (e) => e.group },
  { header: "name", value: (e) => e.playerName, wide: true },
];

/**
 * Operators remember names, the API takes UUIDs: a name is looked up among the online players
 * (case-insensitive, as Minecraft names are).
 */
async function playerUuid(api: Api, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref.toLowerCase();
  const wanted = ref.toLowerCase();
  const match = (await api.players.list()).find((p) => p.name.toLowerCase() === wanted);
  if (!match) {
    throw new CliError(
      `no online player is named "${ref}"`,
      EXIT.NOT_FOUND,
      "hint: `prexorctl player list` shows who is online; players who left are found by UUID",
    );
  }
  return match.id;
}

const list = leaf({
  name: "list",
  description: "List the online players, longest connected first",
  examples: [
    "prexorctl player list",
    "prexorctl player list -o wide",
    "prexorctl player list -o json | jq -r '.[] | select(.currentGroup==\"lobby\") | .name'",
  ],
  args: {
    group: { type: "string", description: "only players on this group's servers" },
    instance: { type: "string", description: "only players on this instance (server or proxy)" },
  },
  async run({ args, api, out }) {
    const rows = (await api().players.list()).filter(
      (p) =>
        (!args.group || p.currentGroup === args.group) &&
        (!args.instance || p.currentInstance === args.instance || p.proxyInstance === args.instance),
    );
    printList(out, rows, columns, { what: "player", name: (p) => p.id });
  },
});

const get = leaf({
  name: "get",
  description: "Show one online player",
  examples: [
    "prexorctl player get 069a79f4-44e9-4726-a5be-fca90e38aaf5",
    "prexorctl player get Notch -o json",
  ],
  args: { player: PLAYER_ARG },
  async run({ args, api, out }) {
    const a = api();
    const player = await a.players.get(await playerUuid(a, args.player));
    if (isMachine(out)) return printData(out, player);
    if (out.format === "name") return out.print(`player/${player.id}`);
    const rows: Array<[string, unknown]> = [
      ["Player", player.name],
      ["UUID", player.id],
      ["Instance", player.currentInstance],
      ["Group", player.currentGroup],
      ["Proxy", player.proxyInstance],
      ["Edition", player.edition],
      ["Online", `${age(player.connectedSince)} (since ${player.connectedSince})`],
    ];
    for (const [k, v] of rows) out.print(`${`${k}:`.padEnd(10)}${v ?? "-"}`);
  },
});

const journey = leaf({
  name: "journey",
  description: "Show where a player went: joins, server switches, transfers and leaves, newest first",
  examples: [
    "prexorctl player journey 069a79f4-44e9-4726-a5be-fca90e38aaf5",
    "prexorctl player journey Notch --since 2h --limit 20",
  ],
  args: {
    player: PLAYER_ARG,
    since: { type: "string", description: "only after this time (ISO) or this long ago (2h)" },
    limit: { type: "string", description: "at most this many (default 50, at most 500)" },
  },
  async run({ args, api, out }) {
    const since = parseInstant(args.since, "--since");
    const limit = parseInteger(args.limit, "--limit", { min: 1, max: 500 });
    const a = api();
    const entries = await a.players.journey(await playerUuid(a, args.player), { since, limit });
    printList(out, entries, journeyColumns, {
      what: "journey",
      plural: "journey entries",
      name: (e) => `${e.eventType}@${e.timestamp}`,
    });
  },
});

const transfer = leaf({
  name: "transfer",
  description: "Move a player to a RUNNING instance; their proxy carries the move out",
  examples: [
    "prexorctl player transfer 069a79f4-44e9-4726-a5be-fca90e38aaf5 --to game-2",
    "prexorctl player transfer Notch --to lobby-1 -o json",
  ],
  args: {
    player: PLAYER_ARG,
    to: { type: "string", description: "the target instance id, e.g. lobby-2 (required)" },
  },
  async run({ args, api, out }) {
    const target = args.to?.trim();
    if (!target) throw new CliError("--to is required: the instance to move the player to", EXIT.USAGE);
    const a = api();
    const result = await a.players.transfer(await playerUuid(a, args.player), target);
    const { playerUuid: id, proxyInstanceId } = result.transfer;
    printDone(
      out,
      `player ${id} queued for transfer to ${target} (carried out by ${proxyInstanceId})`,
      result,
    );
  },
});

export const playerCommand = branch({
  name: "player",
  description: "Inspect online players, their journey, and move them between instances",
  examples: ["prexorctl player list", "prexorctl player transfer Notch --to lobby-2"],
  subCommands: { list, get, journey, transfer },
});
