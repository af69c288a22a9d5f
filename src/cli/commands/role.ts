import type { Role } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { parseList } from "../parse.ts";

const NAME_ARG = { type: "positional", required: true, description: "role name, e.g. SUPPORT" } as const;

const columns: Column<Role>[] = [
  { header: "name", value: (r) => r.name },
  { header: "built-in", value: (r) => (r.builtIn ? "yes" : "no") },
  { header: "permissions", value: (r) => r.permissions.length },
  { header: "description", value: (r) => r.description },
  { header: "granted", value: (r) => r.permissions.join(","), wide: true },
];

const list = leaf({
  name: "list",
  description: "List roles (built-in and custom)",
  examples: ["prexorctl role list", "prexorctl role list -o wide"],
  async run({ api, out }) {
    printList(out, await api().roles.list(), columns, { what: "role", name: (r) => r.name });
  },
});

const info = leaf({
  name: "info",
  description: "Show a role and its permissions",
  examples: ["prexorctl role info OPERATOR"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().roles.get(args.name.toUpperCase()));
  },
});

const create = leaf({
  name: "create",
  description: "Create a custom role",
  examples: [
    'prexorctl role create SUPPORT --permissions groups.view,instances.view,instances.console --description "helpdesk"',
  ],
  args: {
    name: NAME_ARG,
    permissions: { type: "string", required: true, description: "comma-separated permissions" },
    description: { type: "string", description: "what the role is for" },
  },
  async run({ args, api, out }) {
    const role = await api().roles.create({
      name: args.name.toUpperCase(),
      permissions: parseList(args.permissions) ?? [],
      ...(args.description !== undefined ? { description: args.description } : {}),
    });
    printDone(out, `role "${role.name}" created (${role.permissions.length} permissions)`, role);
  },
});

const update = leaf({
  name: "update",
  description: "Change a custom role's permissions (replace, add or remove) or description",
  examples: [
    "prexorctl role update SUPPORT --add crashes.view",
    "prexorctl role update SUPPORT --permissions groups.view,instances.view",
  ],
  args: {
    name: NAME_ARG,
    permissions: { type: "string", description: "replace the permissions with this list" },
    add: { type: "string", description: "comma-separated permissions to grant" },
    remove: { type: "string", description: "comma-separated permissions to take away" },
    description: { type: "string", description: "new description" },
  },
  async run({ args, api, out }) {
    const name = args.name.toUpperCase();
    const body: { permissions?: string[]; description?: string } = {};
    if (args.permissions !== undefined) body.permissions = parseList(args.permissions) ?? [];
    if (args.add !== undefined || args.remove !== undefined) {
      const base = new Set(body.permissions ?? (await api().roles.get(name)).permissions);
      for (const p of parseList(args.add) ?? []) base.add(p);
      for (const p of parseList(args.remove) ?? []) base.delete(p);
      body.permissions = [...base].sort();
    }
    if (args.description !== undefined) body.description = args.description;
    if (Object.keys(body).length === 0)
      throw new CliError(
        "nothing to change: give --permissions, --add, --remove or --description",
        EXIT.USAGE,
      );
    const role = await api().roles.update(name, body);
    printDone(out, `role "${role.name}" updated (${role.permissions.length} permissions)`, role);
  },
});

const remove = leaf({
  name: "delete",
  description: "Delete a custom role nobody holds",
  examples: ["prexorctl role delete SUPPORT"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    printDone(
      out,
      `role "${args.name.toUpperCase()}" deleted`,
      await api().roles.delete(args.name.toUpperCase()),
    );
  },
});

export const roleCommand = branch({
  name: "role",
  description: "Manage roles (sets of permissions)",
  examples: ["prexorctl role list", "prexorctl role create SUPPORT --permissions groups.view"],
  subCommands: { list, info, create, update, delete: remove },
});
