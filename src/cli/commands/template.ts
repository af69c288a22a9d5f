import { existsSync, readdirSync } from "node:fs";
import type { Template, TemplateVersion } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { ApiError, CliError, EXIT } from "../errors.ts";
import { formatBytes, uploadWithProgress } from "../output/progress.ts";
import { printDone, printItem, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { age } from "../parse.ts";
import { packDirectory, unpackArchive } from "../template-archive.ts";

const NAME_ARG = { type: "positional", required: true, description: "template name" } as const;
const short = (hash: string | null | undefined) => (hash ? hash.slice(0, 12) : null);

const columns: Column<Template>[] = [
  { header: "name", value: (t) => t.name },
  { header: "platform", value: (t) => t.platform },
  { header: "version", value: (t) => short(t.currentHash) },
  { header: "description", value: (t) => t.description },
  { header: "hash", value: (t) => t.currentHash, wide: true },
];

const create = leaf({
  name: "create",
  description: "Create an empty template (push files to it next)",
  examples: [
    'prexorctl template create lobby --description "hub world"',
    "prexorctl template create lobby --platform PAPER",
  ],
  args: {
    name: NAME_ARG,
    description: { type: "string", description: "what it is for" },
    platform: { type: "string", description: "platform it targets (optional)" },
  },
  async run({ args, api, out }) {
    const template = await api().templates.create({
      name: args.name,
      ...(args.description !== undefined ? { description: args.description } : {}),
      ...(args.platform !== undefined ? { platform: args.platform.toUpperCase() } : {}),
    });
    printDone(out, `template "${template.name}" created`, template);
  },
});

const list = leaf({
  name: "list",
  description: "List templates with their current version",
  examples: ["prexorctl template list", "prexorctl template list -o wide"],
  async run({ api, out }) {
    printList(out, await api().templates.list(), columns, { what: "template", name: (t) => t.name });
  },
});

const versions = leaf({
  name: "versions",
  description: "List a template's versions, newest first (* = current)",
  examples: ["prexorctl template versions lobby"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    const [template, rows] = await Promise.all([
      api().templates.get(args.name),
      api().templates.versions(args.name),
    ]);
    const cols: Column<TemplateVersion>[] = [
      { header: "current", value: (v) => (v.hash === template.currentHash ? "*" : "") },
      { header: "version", value: (v) => short(v.hash) },
      { header: "files", value: (v) => v.fileCount },
      { header: "size", value: (v) => (v.sizeBytes === undefined ? null : formatBytes(v.sizeBytes)) },
      { header: "by", value: (v) => v.createdBy },
      { header: "age", value: (v) => age(v.createdAt ?? null) },
      { header: "hash", value: (v) => v.hash, wide: true },
    ];
    printList(out, rows, cols, { what: "version", name: (v) => v.hash });
  },
});

const push = leaf({
  name: "push",
  description: "Upload a local directory as a new version of a template (it becomes current)",
  examples: ["prexorctl template push lobby ./templates/lobby", "prexorctl template push lobby . --create"],
  args: {
    name: NAME_ARG,
    dir: { type: "positional", required: true, description: "directory whose files become the template" },
    create: { type: "boolean", description: "create the template first if it does not exist" },
  },
  async run({ args, api, out }) {
    const pack = await packDirectory(args.dir);
    for (const path of pack.skipped) out.note(`skipped ${path} (not a regular file)`);
    const a = api();
    if (args.create) {
      try {
        await a.templates.get(args.name);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404 || err.noRoute) throw err;
        await a.templates.create({ name: args.name });
        out.note(`template "${args.name}" created`);
      }
    }
    out.note(
      `pushing ${pack.fileCount} files (${formatBytes(pack.rawBytes)}, ${formatBytes(pack.bytes.length)} compressed)`,
    );
    const body = uploadWithProgress(pack.bytes, process.stderr);
    const version = await a.templates.upload(args.name, body, pack.bytes.length);
    printDone(
      out,
      `template "${args.name}" is now at version ${short(version.hash)} (${version.fileCount ?? pack.fileCount} files)`,
      version,
    );
  },
});

const pull = leaf({
  name: "pull",
  description: "Download a template version (default: current) into a local directory",
  examples: ["prexorctl template pull lobby", "prexorctl template pull lobby ./lobby-old --version 3f9a…"],
  args: {
    name: NAME_ARG,
    dir: { type: "positional", required: false, description: "target directory (default: ./NAME)" },
    version: { type: "string", description: "version hash (default: current)" },
    force: { type: "boolean", description: "write into a directory that is not empty" },
  },
  async run({ args, api, out }) {
    const dir = args.dir ?? args.name;
    if (existsSync(dir) && readdirSync(dir).length > 0 && !args.force)
      throw new CliError(`${dir} is not empty; use --force to write into it`, EXIT.USAGE);
    const response = await api().templates.export(args.name, args.version);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const count = await unpackArchive(bytes, dir);
    printDone(out, `template "${args.name}" written to ${dir} (${count} files)`, {
      name: args.name,
      dir,
      files: count,
    });
  },
});

const rollback = leaf({
  name: "rollback",
  description: "Make an earlier version current (default: the previous one)",
  examples: ["prexorctl template rollback lobby", "prexorctl template rollback lobby --to 3f9a0c…"],
  args: { name: NAME_ARG, to: { type: "string", description: "version hash to return to" } },
  async run({ args, api, out }) {
    const result = await api().templates.rollback(args.name, args.to);
    printDone(out, `template "${args.name}": ${short(result.from)} → ${short(result.to)}`, result);
  },
});

const info = leaf({
  name: "info",
  description: "Show one template",
  examples: ["prexorctl template info lobby"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    printItem(out, await api().templates.get(args.name));
  },
});

const remove = leaf({
  name: "delete",
  description: "Delete a template and all its versions (refused while a group uses it)",
  examples: ["prexorctl template delete old-lobby"],
  args: { name: NAME_ARG },
  async run({ args, api, out }) {
    const result = await api().templates.delete(args.name);
    printDone(out, `template "${args.name}" deleted`, result);
  },
});

export const templateCommand = branch({
  name: "template",
  description: "Manage templates: versioned file trees instances are built from",
  examples: ["prexorctl template push lobby ./lobby --create", "prexorctl template versions lobby"],
  subCommands: { create, list, info, versions, push, pull, rollback, delete: remove },
});
