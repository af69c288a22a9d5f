import type { User } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age } from "../parse.ts";
import { askSecret, readStdin, secretFromStdin } from "../prompt.ts";

const USERNAME_ARG = { type: "positional", required: true, description: "username" } as const;

/** A new password: from stdin for scripts, else asked twice on the terminal. */
async function newPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return secretFromStdin(await readStdin());
  const first = await askSecret("New password: ");
  const second = await askSecret("Repeat it: ");
  if (first !== second) throw new CliError("the passwords do not match", EXIT.USAGE);
  return first;
}

const columns: Column<User>[] = [
  { header: "username", value: (u) => u.username },
  { header: "role", value: (u) => u.role },
  { header: "email", value: (u) => u.email },
  { header: "last-login", value: (u) => (u.lastLoginAt ? `${age(u.lastLoginAt)} ago` : "never") },
  { header: "created", value: (u) => u.createdAt, wide: true },
];

const list = leaf({
  name: "list",
  description: "List users",
  examples: ["prexorctl user list"],
  async run({ api, out }) {
    printList(out, await api().users.list(), columns, { what: "user", name: (u) => u.username });
  },
});

const info = leaf({
  name: "info",
  description: "Show one user",
  examples: ["prexorctl user info alice"],
  args: { username: USERNAME_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().users.get(args.username));
  },
});

const create = leaf({
  name: "create",
  description: "Create a user (the password is asked for, or read with --password-stdin)",
  examples: [
    "prexorctl user create alice --role OPERATOR --email alice@example.com",
    'printf %s "$PW" | prexorctl user create ci --role VIEWER --password-stdin',
  ],
  args: {
    username: USERNAME_ARG,
    role: { type: "string", description: "role name (default VIEWER)" },
    email: { type: "string", description: "email address" },
    "password-stdin": { type: "boolean", description: "read the password from stdin" },
  },
  async run({ args, api, out }) {
    const password = await newPassword(args["password-stdin"] === true);
    const user = await api().users.create({
      username: args.username,
      password,
      ...(args.role ? { role: args.role.toUpperCase() } : {}),
      ...(args.email ? { email: args.email } : {}),
    });
    printDone(out, `user "${user.username}" created (${user.role})`, user);
  },
});

const update = leaf({
  name: "update",
  description: "Change a user's role, email or password",
  examples: [
    "prexorctl user update alice --role ADMIN",
    'printf %s "$PW" | prexorctl user update alice --password-stdin',
  ],
  args: {
    username: USERNAME_ARG,
    role: { type: "string", description: "new role" },
    email: { type: "string", description: 'new email ("" to clear)' },
    "password-stdin": { type: "boolean", description: "read a new password from stdin" },
    password: { type: "boolean", description: "ask for a new password on the terminal" },
  },
  async run({ args, api, out }) {
    const body: { role?: string; email?: string | null; password?: string } = {};
    if (args.role) body.role = args.role.toUpperCase();
    if (args.email !== undefined) body.email = args.email === "" ? null : args.email;
    if (args["password-stdin"] || args.password)
      body.password = await newPassword(args["password-stdin"] === true);
    if (Object.keys(body).length === 0)
      throw new CliError("nothing to change: give --role, --email or --password", EXIT.USAGE);
    const user = await api().users.update(args.username, body);
    printDone(out, `user "${user.username}" updated`, user);
  },
});

/** Seed 001 §1's recovery step: an admin sets another account's password (e.g. admin's own). */
const setPassword = leaf({
  name: "set-password",
  description: "Set a user's password (asked on the terminal, or --password-stdin)",
  examples: [
    "prexorctl user set-password admin",
    'printf %s "$PW" | prexorctl user set-password alice --password-stdin',
  ],
  args: {
    username: USERNAME_ARG,
    "password-stdin": { type: "boolean", description: "read the new password from stdin" },
  },
  async run({ args, api, out }) {
    const password = await newPassword(args["password-stdin"] === true);
    const user = await api().users.update(args.username, { password });
    printDone(out, `password of "${user.username}" set`, user);
  },
});

const remove = leaf({
  name: "delete",
  description: "Delete a user",
  examples: ["prexorctl user delete bob"],
  args: { username: USERNAME_ARG },
  async run({ args, api, out }) {
    printDone(out, `user "${args.username}" deleted`, await api().users.delete(args.username));
  },
});

const changePassword = leaf({
  name: "change-password",
  description: "Change your own password (revokes your other tokens; log in again after)",
  examples: [
    "prexorctl user change-password",
    'printf \'%s\\n%s\\n\' "$OLD" "$NEW" | prexorctl user change-password --stdin',
  ],
  args: {
    stdin: { type: "boolean", description: "read the current and the new password as two lines from stdin" },
  },
  async run({ args, api, out }) {
    let current: string;
    let next: string;
    if (args.stdin) {
      const [a, b] = (await readStdin()).split(/\r?\n/);
      if (!a || !b)
        throw new CliError("expected two lines on stdin: current password, new password", EXIT.USAGE);
      [current, next] = [a, b];
    } else {
      current = await askSecret("Current password: ");
      next = await newPassword(false);
    }
    printDone(out, "password changed; log in again", await api().auth.changePassword(current, next));
  },
});

export const userCommand = branch({
  name: "user",
  description: "Manage operator accounts",
  examples: ["prexorctl user list", "prexorctl user create alice --role OPERATOR"],
  subCommands: {
    list,
    info,
    create,
    update,
    "set-password": setPassword,
    delete: remove,
    "change-password": changePassword,
  },
});
