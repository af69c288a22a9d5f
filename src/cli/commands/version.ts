import { versionInfo } from "../../version.ts";
import { leaf } from "../command-kit.ts";
import { isMachine, printData } from "../output/render.ts";

export const versionCommand = leaf({
  name: "version",
  description: "Print the versions of prexorctl and of the controller",
  examples: ["prexorctl version", "prexorctl version -o json"],
  async run({ out, api, session }) {
    const cli = versionInfo();
    let controller: Record<string, unknown>;
    try {
      controller = { ...(await api().system.version()) };
    } catch (err) {
      // The CLI's own version is still worth printing when the controller is down.
      controller = { error: `unreachable: ${(err as Error).message}` };
    }
    if (isMachine(out)) return printData(out, { cli, controller, server: session().server });
    out.print(`prexorctl ${cli.version} (${cli.gitCommit}, ${cli.runtime}, ${cli.os}/${cli.arch})`);
    const c = controller as {
      version?: string;
      gitCommit?: string;
      protocolVersion?: number;
      error?: string;
    };
    out.print(
      `controller ${session().server}: ${c.version ? `${c.version} (${c.gitCommit}, protocol ${c.protocolVersion})` : c.error}`,
    );
  },
});
