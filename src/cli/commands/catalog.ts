import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { CatalogEntry } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import { formatBytes, uploadWithProgress } from "../output/progress.ts";
import { printDone, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";

const sourceOf = (c: CatalogEntry) =>
  c.source?.kind === "url" ? c.source.url : c.source?.kind === "controller" ? "controller" : "";

const columns: Column<CatalogEntry>[] = [
  { header: "platform", value: (c) => c.platform },
  { header: "version", value: (c) => c.version },
  { header: "build", value: (c) => (c.build ? String(c.build) : "") },
  { header: "origin", value: (c) => c.origin ?? "" },
  { header: "recommended", value: (c) => (c.recommended ? "yes" : "") },
  { header: "ready", value: (c) => (c.ready === false ? "no" : "yes") },
  { header: "sha256", value: (c) => c.sha256, wide: true },
  { header: "source", value: sourceOf, wide: true },
];

const PLATFORM = { type: "string", description: "platform (paper, folia, velocity, waterfall, …)" } as const;
const VERSION = { type: "string", description: "version, e.g. 1.21.4" } as const;

function required(value: string | undefined, flag: string): string {
  if (!value) throw new CliError(`--${flag} is required`, EXIT.USAGE);
  return value;
}

const list = leaf({
  name: "list",
  description: "List the platform versions the controller can provision",
  examples: ["prexorctl catalog list", "prexorctl catalog list --platform paper -o wide"],
  args: { platform: { type: "string", description: "only this platform" } },
  async run({ args, api, out }) {
    const wanted = args.platform?.toUpperCase();
    const rows = (await api().catalog.list()).filter((c) => !wanted || c.platform.toUpperCase() === wanted);
    printList(out, rows, columns, {
      what: "catalog",
      plural: "catalog entries",
      name: (c) => `${c.platform}/${c.version}`,
    });
  },
});

const add = leaf({
  name: "add",
  description:
    "Add a platform version: with --sha256 and --url as given, or (PAPER, FOLIA, VELOCITY, WATERFALL) the newest build resolved from PaperMC's downloads API",
  examples: [
    "prexorctl catalog add --platform paper --version 1.21.4",
    "prexorctl catalog add --platform purpur --version 1.21.4 --sha256 3f9a… --url https://mirror.example/purpur.jar",
  ],
  args: {
    platform: PLATFORM,
    version: VERSION,
    sha256: { type: "string", description: "the artifact's SHA-256 (omit to resolve it from PaperMC)" },
    url: { type: "string", description: "where daemons download the artifact (needs --sha256)" },
    recommended: { type: "boolean", description: "make it the platform's recommended version" },
  },
  async run({ args, api, out }) {
    const platform = required(args.platform, "platform");
    const version = required(args.version, "version");
    if (args.url && !args.sha256) throw new CliError("--url needs --sha256", EXIT.USAGE);
    const entry = await api().catalog.add(platform, {
      version,
      ...(args.sha256 ? { sha256: args.sha256 } : {}),
      ...(args.url ? { url: args.url } : {}),
      ...(args.recommended ? { recommended: true } : {}),
    });
    const build = entry.build ? ` build ${entry.build}` : "";
    printDone(out, `${entry.platform} ${entry.version}${build} added (sha256 ${entry.sha256})`, entry);
  },
});

const remove = leaf({
  name: "remove",
  description: "Remove a platform version (running instances keep their jar; new plans need another entry)",
  examples: ["prexorctl catalog remove --platform paper --version 1.21.4"],
  args: { platform: PLATFORM, version: VERSION },
  async run({ args, api, out }) {
    const platform = required(args.platform, "platform");
    const version = required(args.version, "version");
    const result = await api().catalog.remove(platform, version);
    printDone(out, `${platform.toUpperCase()} ${version} removed from the catalog`, result);
  },
});

const importCmd = leaf({
  name: "import",
  description:
    "Upload a server or proxy jar for air-gapped hosts: its SHA-256 is computed, the controller stores it by content and serves it to daemons",
  examples: ["prexorctl catalog import ./paper-1.21.4-232.jar --platform paper --version 1.21.4"],
  args: {
    file: { type: "positional", required: true, description: "the jar to upload" },
    platform: PLATFORM,
    version: VERSION,
    recommended: { type: "boolean", description: "make it the platform's recommended version" },
  },
  async run({ args, api, out }) {
    const platform = required(args.platform, "platform");
    const version = required(args.version, "version");
    if (!existsSync(args.file) || !statSync(args.file).isFile())
      throw new CliError(`${args.file}: no such file`, EXIT.NOT_FOUND);
    const bytes = new Uint8Array(readFileSync(args.file));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    out.note(`uploading ${args.file} (${formatBytes(bytes.length)}, sha256 ${sha256})`);
    const a = api();
    const entry = await a.catalog.upload(
      platform,
      version,
      uploadWithProgress(bytes, process.stderr),
      bytes.length,
    );
    const final = args.recommended ? await a.catalog.recommend(platform, version) : entry;
    printDone(out, `${final.platform} ${final.version} imported (sha256 ${final.sha256})`, final);
  },
});

export const catalogCommand = branch({
  name: "catalog",
  description: "Runtime catalog: the server and proxy jars groups run, by platform and version",
  examples: [
    "prexorctl catalog list",
    "prexorctl catalog add --platform paper --version 1.21.4",
    "prexorctl catalog import ./paper.jar --platform paper --version 1.21.4",
  ],
  subCommands: { list, add, remove, import: importCmd },
});
