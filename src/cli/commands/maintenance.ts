import { leaf } from "../command-kit.ts";
import { printDone, printItem } from "../output/render.ts";
import { parseSwitch } from "../parse.ts";

export const maintenanceCommand = leaf({
  name: "maintenance",
  description: "Show or switch global maintenance (no scheduling for any group while on)",
  examples: [
    "prexorctl maintenance",
    'prexorctl maintenance on --message "Back at 18:00 UTC"',
    "prexorctl maintenance off",
  ],
  args: {
    state: { type: "positional", required: false, description: "on or off; omit to show the current state" },
    message: { type: "string", description: "message shown to players while on" },
  },
  async run({ args, api, out }) {
    if (!args.state) {
      const m = await api().maintenance.get();
      return printItem(out, m, () => `maintenance: ${m.enabled ? "on" : "off"}\nmessage: ${m.message}`);
    }
    const enabled = parseSwitch(args.state, "maintenance");
    const m = await api().maintenance.set(enabled, args.message);
    printDone(out, `Global maintenance is ${m.enabled ? "on" : "off"}.`, m);
  },
});
