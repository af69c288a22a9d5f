import { GroupCreateSchema, GroupPatchSchema } from "../../core/groups/group-schema.ts";
import type { Group, GroupPatch, GroupSpec, SchedulerView } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { isMachine, printData, printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { parseInteger, parseList, parseSwitch } from "../parse.ts";
import { checkSpec, readSpecFile, type SpecFile } from "../spec-file.ts";
import { watchDeployment } from "./deploy.ts";

const NAME_ARG = { type: "positional", required: true, description: "group name" } as const;

/** Flags that set group fields; shared by create and update. */
const FIELD_FLAGS = {
  platform: { type: "string", description: "PAPER, PURPUR, VELOCITY, … (any case)" },
  "platform-version": { type: "string", description: "platform version, e.g. 1.21.4" },
  parent: { type: "string", description: "group to inherit from" },
  templates: { type: "string", description: "comma-separated template names, applied in order" },
  "scaling-mode": { type: "string", description: "STATIC, DYNAMIC or MANUAL" },
  min: { type: "string", description: "minimum instances" },
  max: { type: "string", description: "maximum instances" },
  memory: { type: "string", description: "memory per instance in MiB" },
  "max-players": { type: "string", description: "player slots per instance" },
  "port-start": { type: "string", description: "first port of the range" },
  "port-end": { type: "string", description: "last port of the range" },
  "depends-on": { type: "string", description: "comma-separated groups that must be up first" },
  priority: { type: "string", description: "placement priority, -1000 to 1000" },
  file: { type: "string", alias: "f", description: "read the group from a YAML or JSON file (- for stdin)" },
} as const;

type FieldArgs = { [K in keyof typeof FIELD_FLAGS]?: string };

/** Only the flags given, so an update touches nothing else. */
export function fieldsFromFlags(args: FieldArgs): GroupPatch {
  const int = (flag: keyof FieldArgs, range: { min?: number; max?: number }) =>
    parseInteger(args[flag], `--${flag}`, range);
  const fields: Record<string, unknown> = {
    platform: args.platform,
    platformVersion: args["platform-version"],
    parent: args.parent === undefined ? undefined : args.parent === "" ? null : args.parent,
    templates: parseList(args.templates),
    scalingMode: args["scaling-mode"],
    minInstances: int("min", { min: 0 }),
    maxInstances: int("max", { min: 0 }),
    memoryMb: int("memory", { min: 1 }),
    maxPlayers: int("max-players", { min: 1 }),
    portRangeStart: int("port-start", { min: 1, max: 65535 }),
    portRangeEnd: int("port-end", { min: 1, max: 65535 }),
    dependsOn: parseList(args["depends-on"]),
    priority: int("priority", {}),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as GroupPatch;
}

const flagsOnly = (file: string): SpecFile => ({ file, value: {}, lineOf: () => undefined });

/** Fields whose values are upper-case names; people write `platform: paper`, so any case is taken. */
const UPPER_FIELDS = ["platform", "scalingMode", "updateStrategy", "readiness"] as const;

export function normalizeEnums<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = { ...value };
  for (const key of UPPER_FIELDS)
    if (typeof out[key] === "string") out[key] = (out[key] as string).toUpperCase();
  return out as T;
}

/** A group row with what holds it: its pause, else the last scheduler tick's status and reason. */
type GroupRow = Group & { status: string; reason: string };

/** The scheduler's view is optional: a user without it (or an older controller) still gets the list. */
async function lastTick(get: () => Promise<SchedulerView>): Promise<SchedulerView["lastTick"]> {
  try {
    return (await get()).lastTick;
  } catch {
    // see above: without the scheduler view the list is still correct, only the status column is blank
    return null;
  }
}

export function withReasons(groups: Group[], tick: SchedulerView["lastTick"]): GroupRow[] {
  const diag = new Map((tick?.groups ?? []).map((d) => [d.group, d]));
  return groups.map((g) => {
    const d = diag.get(g.name);
    if (g.pause) return { ...g, status: "paused", reason: g.pause.reason };
    if (!d) return { ...g, status: "-", reason: "" };
    return { ...g, status: d.status, reason: d.status === "ok" ? "" : d.reason };
  });
}

const columns: Column<GroupRow>[] = [
  { header: "name", value: (g) => g.name },
  { header: "platform", value: (g) => `${g.platform}${g.platformVersion ? ` ${g.platformVersion}` : ""}` },
  { header: "mode", value: (g) => g.scalingMode },
  { header: "min", value: (g) => g.minInstances },
  { header: "max", value: (g) => g.maxInstances },
  { header: "memory", value: (g) => `${g.memoryMb}Mi` },
  {
    header: "maintenance",
    value: (g) => (g.maintenance ? "on" : "off"),
    color: (t, s) => (t === "on" ? s.yellow(t) : t),
  },
  {
    header: "status",
    value: (g) => g.status,
    color: (t, s) => (t === "paused" ? s.red(t) : t === "ok" || t === "-" ? t : s.yellow(t)),
  },
  { header: "reason", value: (g) => g.reason },
  { header: "parent", value: (g) => g.parent, wide: true },
  { header: "templates", value: (g) => g.templates.join(","), wide: true },
  { header: "ports", value: (g) => `${g.portRangeStart}-${g.portRangeEnd}`, wide: true },
  { header: "priority", value: (g) => g.priority, wide: true },
];

const create = leaf({
  name: "create",
  description: "Create a group from flags or from a YAML/JSON file",
  examples: [
    "prexorctl group create lobby --platform PAPER --platform-version 1.21.4 --min 1 --max 4 --memory 2048",
    "prexorctl group create -f lobby.yml",
    "prexorctl group create lobby -f base.yml --max 8 --dry-run -o yaml",
  ],
  args: {
    name: { ...NAME_ARG, required: false, description: "group name (or `name:` in the file)" },
    ...FIELD_FLAGS,
    "dry-run": { type: "boolean", description: "validate and print the request instead of sending it" },
  },
  async run({ args, api, out }) {
    const spec = args.file ? await readSpecFile(args.file) : flagsOnly("flags");
    const body = normalizeEnums({
      ...spec.value,
      ...fieldsFromFlags(args),
      ...(args.name ? { name: args.name } : {}),
    });
    if (typeof body.name !== "string" || body.name === "")
      throw new CliError("a group name is required (argument NAME or `name:` in the file)", EXIT.USAGE);
    checkSpec(spec, GroupCreateSchema, body);
    if (args["dry-run"]) return printData(out, body);
    const group = await api().groups.create(body as Partial<GroupSpec> & { name: string });
    printDone(out, `group "${group.name}" created`, group);
  },
});

const list = leaf({
  name: "list",
  description: "List groups",
  examples: [
    "prexorctl group list",
    "prexorctl group list -o wide",
    "prexorctl group list -o json | jq '.[].name'",
  ],
  async run({ api, out }) {
    const a = api();
    const [groups, tick] = await Promise.all([a.groups.list(), lastTick(() => a.scheduler.get())]);
    printList(out, withReasons(groups, tick), columns, { what: "group", name: (g) => g.name });
  },
});

const info = leaf({
  name: "info",
  description: "Show one group (--resolved: with its parent chain merged in)",
  examples: ["prexorctl group info lobby", "prexorctl group info lobby --resolved -o json"],
  args: { name: NAME_ARG, resolved: { type: "boolean", description: "merge the parent chain" } },
  async run({ args, api, out }) {
    const a = api();
    const group = args.resolved ? await a.groups.resolved(args.name) : await a.groups.get(args.name);
    // The scheduler's last word on the group: why it is (or is not) at its desired count.
    const tick = await lastTick(() => a.scheduler.get());
    const scheduler = tick?.groups.find((d) => d.group === args.name) ?? null;
    printItem(out, { ...group, scheduler });
  },
});

const update = leaf({
  name: "update",
  description: "Change fields of a group (only those given) from flags or a YAML/JSON patch file",
  examples: [
    "prexorctl group update lobby --max 8 --memory 3072",
    "prexorctl group update lobby -f patch.yml",
  ],
  args: { name: NAME_ARG, ...FIELD_FLAGS },
  async run({ args, api, out }) {
    const spec = args.file ? await readSpecFile(args.file) : flagsOnly("flags");
    const { name: fileName, ...fromFile } = spec.value;
    if (fileName !== undefined && fileName !== args.name)
      throw new CliError(
        `${spec.file}: name "${String(fileName)}" does not match the group "${args.name}"`,
        EXIT.USAGE,
      );
    const patch = normalizeEnums({ ...fromFile, ...fieldsFromFlags(args) }) as GroupPatch;
    if (Object.keys(patch).length === 0)
      throw new CliError("nothing to change: give at least one field flag or -f FILE", EXIT.USAGE);
    checkSpec(spec, GroupPatchSchema, patch);
    const group = await api().groups.update(args.name, patch);
    printDone(out, `group "${group.name}" updated`, group);
  },
});

const remove = leaf({
  name: "delete",
  description: "Delete a group (refused while another group references it)",
  examples: ["prexorctl group delete minigames"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    const result = await api().groups.delete(args.name);
    printDone(out, `group "${args.name}" deleted`, result);
  },
});

const scale = leaf({
  name: "scale",
  description: "Set the minimum and/or maximum instance count of a group",
  examples: ["prexorctl group scale lobby --min 2 --max 6", "prexorctl group scale lobby --min 0"],
  args: {
    name: NAME_ARG,
    min: { type: "string", description: "minimum instances" },
    max: { type: "string", description: "maximum instances" },
  },
  async run({ args, api, out }) {
    const patch = fieldsFromFlags({ min: args.min, max: args.max });
    if (Object.keys(patch).length === 0) throw new CliError("give --min and/or --max", EXIT.USAGE);
    const group = await api().groups.update(args.name, patch);
    printDone(
      out,
      `group "${group.name}" scaled to ${group.minInstances}..${group.maxInstances} instances`,
      group,
    );
  },
});

const start = leaf({
  name: "start",
  description: "Start instances of a group now (beyond what scaling would do)",
  examples: ["prexorctl group start lobby", "prexorctl group start bedwars --count 3"],
  args: { name: NAME_ARG, count: { type: "string", description: "how many instances (default 1)" } },
  async run({ args, api, out }) {
    const count = parseInteger(args.count, "--count", { min: 1, max: 100 });
    const result = await api().groups.start(args.name, count);
    printDone(out, `start of ${count ?? 1} instance(s) of group "${args.name}" requested`, result);
  },
});

const restart = leaf({
  name: "restart",
  description: "Rolling restart of every instance of a group (a deployment with trigger restart)",
  examples: ["prexorctl group restart lobby", "prexorctl group restart lobby --watch"],
  args: {
    name: NAME_ARG,
    watch: { type: "boolean", description: "follow the rollout; exit 0 on COMPLETED, non-zero otherwise" },
  },
  async run({ args, api, out }) {
    const result = await api().groups.restart(args.name);
    printDone(
      out,
      `rolling restart of group "${args.name}" requested (deployment r${result.revision})`,
      result,
    );
    return args.watch ? watchDeployment(api(), out, args.name, result.revision) : undefined;
  },
});

const maintenance = leaf({
  name: "maintenance",
  description: "Switch maintenance for one group (the scheduler leaves it alone while on)",
  examples: [
    'prexorctl group maintenance lobby on --message "Updating maps"',
    "prexorctl group maintenance lobby off",
  ],
  args: {
    name: NAME_ARG,
    state: { type: "positional", required: true, description: "on or off" },
    message: { type: "string", description: "message shown to players" },
  },
  async run({ args, api, out }) {
    const patch: GroupPatch = { maintenance: parseSwitch(args.state, "maintenance") };
    if (args.message !== undefined) patch.maintenanceMessage = args.message;
    const group = await api().groups.update(args.name, patch);
    if (isMachine(out)) return printData(out, group);
    out.print(`group "${group.name}": maintenance ${group.maintenance ? "on" : "off"}`);
  },
});

const resume = leaf({
  name: "resume",
  description: "Lift a pause (a PERMANENT start failure or a crash loop) once its cause is fixed",
  examples: ["prexorctl group resume lobby"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    const result = await api().groups.resume(args.name);
    printDone(out, `group "${args.name}" resumed`, result);
  },
});

export const groupCommand = branch({
  name: "group",
  description: "Manage groups: what to run, how many, where",
  examples: ["prexorctl group list", "prexorctl group create -f lobby.yml"],
  subCommands: { create, list, info, update, delete: remove, scale, start, restart, maintenance, resume },
});
