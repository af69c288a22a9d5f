import { leaf } from "../command-kit.ts";
import type { AnyCommand } from "../command-tree.ts";
import { completionScript, SHELLS, type Shell } from "../completion.ts";
import { CliError, EXIT } from "../errors.ts";
import { writeFully } from "../output/write-fully.ts";

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
    run({ args }) {
      if (!(SHELLS as readonly string[]).includes(args.shell))
        throw new CliError(`unsupported shell "${args.shell}"; use one of ${SHELLS.join(", ")}`, EXIT.USAGE);
      // Raw and whole before main() exits: the script must reach the shell byte for byte.
      writeFully(1, completionScript(root(), args.shell as Shell));
    },
  });
}
