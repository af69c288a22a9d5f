import { defineCommand } from "citty";
import { versionInfo } from "../version.ts";

export const versionCommand = defineCommand({
  meta: { name: "version", description: "Print the version" },
  args: { json: { type: "boolean", description: "print JSON" } },
  run({ args }) {
    const info = versionInfo();
    console.log(
      args.json
        ? JSON.stringify(info)
        : `prexor ${info.version} (commit ${info.gitCommit}, built ${info.buildDate}, protocol ${info.protocolVersion}, ${info.runtime}, ${info.os}/${info.arch})`,
    );
    return 0;
  },
});
