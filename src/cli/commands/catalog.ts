import type { CatalogEntry } from "../client/types.ts";
import { leaf } from "../command-kit.ts";
import { printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";

const columns: Column<CatalogEntry>[] = [
  { header: "platform", value: (c) => c.platform },
  { header: "version", value: (c) => c.version },
  { header: "recommended", value: (c) => (c.recommended ? "yes" : "") },
  { header: "sha256", value: (c) => c.sha256, wide: true },
  { header: "url", value: (c) => c.downloadUrl, wide: true },
];

export const catalogCommand = leaf({
  name: "catalog",
  description: "List the platform versions the controller can provision",
  examples: ["prexorctl catalog", "prexorctl catalog --platform PAPER -o wide"],
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
