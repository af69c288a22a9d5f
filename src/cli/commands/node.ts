import type { NodeView } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age, parseDuration, parseInteger } from "../parse.ts";
import { confirm } from "../prompt.ts";

const ID_ARG = { type: "positional", required: true, description: "node id" } as const;

const memory = (n: NodeView) => {
  const c = n.capacity;
  return c?.totalMemoryMb ? `${c.usedMemoryMb ?? 0}/${c.totalMemoryMb}Mi` : null;
};

const columns: Column<NodeView>[] = [
  { header: "id", value: (n) => n.id },
  {
    header: "state",
    value: (n) => (n.cordoned && n.state === "ONLINE" ? "CORDONED" : n.state),
    color: (t, s) => s.state(t),
  },
  { header: "address", value: (n) => n.address },
  { header: "instances", value: (n) => n.instanceCount },
  {
    header: "cpu",
    value: (n) => (n.capacity?.cpuUsage === undefined ? null : `${Math.round(n.capacity.cpuUsage * 100)}%`),
  },
  { header: "memory", value: memory },
  { header: "last-seen", value: (n) => age(n.lastSeen ?? null) },
  { header: "version", value: (n) => n.daemonVersion, wide: true },
  {
    header: "labels",
    value: (n) =>
      Object.entries(n.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    wide: true,
  },
];

const list = leaf({
  name: "list",
  description: "List nodes (daemons)",
  examples: ["prexorctl node list", "prexorctl node list --state ONLINE -o wide"],
  args: { state: { type: "string", description: "ONLINE, DRAINING, UNREACHABLE or OFFLINE" } },
  async run({ args, api, out }) {
    printList(out, await api().nodes.list(args.state?.toUpperCase()), columns, {
      what: "node",
      name: (n) => n.id,
    });
  },
});

const info = leaf({
  name: "info",
  description: "Show one node",
  examples: ["prexorctl node info mc-1", "prexorctl node info mc-1 -o json"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().nodes.get(args.id));
  },
});

const cordon = leaf({
  name: "cordon",
  description: "Stop placing new instances on a node; running ones stay",
  examples: ["prexorctl node cordon mc-1"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    printDone(out, `node "${args.id}" cordoned`, await api().nodes.cordon(args.id));
  },
});

const uncordon = leaf({
  name: "uncordon",
  description: "Allow placements on a node again",
  examples: ["prexorctl node uncordon mc-1"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    printDone(out, `node "${args.id}" uncordoned`, await api().nodes.uncordon(args.id));
  },
});

const drain = leaf({
  name: "drain",
  description:
    "Move players off a node and stop its instances; then shut the daemon down (unless --no-shutdown)",
  examples: [
    "prexorctl node drain mc-1",
    'prexorctl node drain mc-1 --no-shutdown --timeout 5m --kick-message "Node maintenance"',
  ],
  args: {
    id: ID_ARG,
    shutdown: {
      type: "boolean",
      default: true,
      negativeDescription: "leave the daemon running (cordoned) once empty",
    },
    timeout: { type: "string", description: "kick remaining players after this long (default 60s)" },
    "kick-message": { type: "string", description: "what kicked players see" },
  },
  async run({ args, api, out }) {
    const timeoutMs = parseDuration(args.timeout, "--timeout") ?? 60_000;
    const result = await api().nodes.drain(args.id, {
      shutdown: args.shutdown !== false,
      timeout: Math.ceil(timeoutMs / 1000),
      ...(args["kick-message"] ? { kickMessage: args["kick-message"] } : {}),
    });
    printDone(
      out,
      `node "${args.id}" draining${args.shutdown !== false ? " (shuts down when empty)" : ""}`,
      result,
    );
  },
});

const undrain = leaf({
  name: "undrain",
  description: "Cancel a drain that is still running",
  examples: ["prexorctl node undrain mc-1"],
  args: { id: ID_ARG },
  async run({ args, api, out }) {
    printDone(out, `node "${args.id}": drain cancelled`, await api().nodes.undrain(args.id));
  },
});

const revokeCert = leaf({
  name: "revoke-cert",
  description: "Revoke a node's certificate: the daemon can no longer connect (re-enrol to return)",
  examples: ["prexorctl node revoke-cert mc-3 --yes", "prexorctl node revoke-cert mc-3 --ttl-days 30"],
  args: {
    id: ID_ARG,
    "ttl-days": { type: "string", description: "keep the revocation entry this many days" },
    yes: { type: "boolean", alias: "y", description: "do not ask for confirmation" },
  },
  async run({ args, api, out }) {
    const ttlDays = parseInteger(args["ttl-days"], "--ttl-days", { min: 1, max: 3650 });
    await confirm(`Revoke the certificate of node "${args.id}"?`, args.yes === true);
    printDone(out, `node "${args.id}": certificate revoked`, await api().nodes.revokeCert(args.id, ttlDays));
  },
});

export const nodeCommand = branch({
  name: "node",
  description: "Inspect and manage nodes (hosts running the daemon)",
  examples: ["prexorctl node list", "prexorctl node drain mc-1"],
  subCommands: { list, info, cordon, uncordon, drain, undrain, "revoke-cert": revokeCert },
});
