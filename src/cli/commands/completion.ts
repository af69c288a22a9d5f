import { leaf } from "../command-kit.ts";
import type { AnyCommand } from "../command-tree.ts";
import { completionScript, SHELLS, type Shell } from "../completion.ts";
import { CliError, EXIT } from "../errors.ts";

export function completionCommand(root: () => AnyCommand) {
  return leaf({
    name: "completion",
    description: "Print a shell completion script (bash, zsh or fish)",
    examples: [
      "source <(prexorctl completion bash)",
      "prexorctl completion zsh > ~/.zfunc/_prexorctl   # with fpath+=(~/.zfunc) in .zshrc",
      "prexorctl completion fish > ~/.config/fish/completions/prexorctl.fish",
    ],
    args: { shell: { type: "positional", required: true, description: "bash, zsh or fish" } },
    async run({ args }) {
      if (!(SHELLS as readonly string[]).includes(args.shell))
        throw new CliError(`unsupported shell "${args.shell}"; use one of ${SHELLS.join(", ")}`, EXIT.USAGE);
      // Written raw (the script must reach the shell byte for byte) and awaited: main() exits right
      // after, and an unflushed process.stdout.write cut the fish script (> 64 KiB) short into a pipe.
      await Bun.write(Bun.stdout, completionScript(root(), args.shell as Shell));
    },
  });
}
