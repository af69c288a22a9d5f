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
    run({ args }) {
      if (!(SHELLS as readonly string[]).includes(args.shell))
        throw new CliError(`unsupported shell "${args.shell}"; use one of ${SHELLS.join(", ")}`, EXIT.USAGE);
      // Written raw: the script must reach the shell byte for byte.
      process.stdout.write(completionScript(root(), args.shell as Shell));
    },
  });
}
