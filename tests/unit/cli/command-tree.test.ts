import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { examplesOf } from "../../../src/cli/command-kit.ts";
import { hoistGlobalFlags, listCommands, locate, subCommandsOf } from "../../../src/cli/command-tree.ts";
import { completionScript } from "../../../src/cli/completion.ts";
import { renderHelp } from "../../../src/cli/help.ts";
import { ctlCommand } from "../../../src/roles/ctl.ts";
import { tempDir } from "../../support/adapters.ts";

const all = listCommands(ctlCommand);

describe("the command tree", () => {
  test("has every command group the operator needs", () => {
    expect(Object.keys(subCommandsOf(ctlCommand) ?? {}).sort()).toEqual(
      [
        "audit",
        "backup",
        "catalog",
        "completion",
        "context",
        "crash",
        "deploy",
        "events",
        "group",
        "instance",
        "join-token",
        "login",
        "logout",
        "maintenance",
        "network",
        "node",
        "player",
        "restore",
        "role",
        "status",
        "template",
        "user",
        "version",
      ].sort(),
    );
  });

  test("every command has help with a description and at least one runnable-looking example", async () => {
    for (const { path, cmd } of all) {
      const help = await renderHelp(cmd, path);
      const where = `prexorctl ${path.join(" ")}`;
      expect(help, where).toContain("USAGE");
      expect(help, where).toContain("EXAMPLES");
      const examples = examplesOf(cmd);
      expect(examples.length, where).toBeGreaterThan(0);
      // the example uses the command it documents (completion's examples pipe it into a shell)
      expect(
        examples.some((e) => e.includes(`prexorctl ${path.join(" ")}`.trim())),
        where,
      ).toBe(true);
    }
  });

  test("global flags may come before the command words", () => {
    expect(hoistGlobalFlags(ctlCommand, ["--context", "prod", "-o", "json", "group", "list"])).toEqual([
      "group",
      "list",
      "--context",
      "prod",
      "-o",
      "json",
    ]);
    expect(hoistGlobalFlags(ctlCommand, ["--no-headers", "node", "list", "--state", "ONLINE"])).toEqual([
      "node",
      "list",
      "--no-headers",
      "--state",
      "ONLINE",
    ]);
    // not a global flag: left where it is for the strict runner to reject
    expect(hoistGlobalFlags(ctlCommand, ["--frob", "group", "list"])).toEqual(["--frob", "group", "list"]);
    expect(locate(ctlCommand, ["group", "info", "lobby"]).path).toEqual(["group", "info"]);
  });
});

describe("completion scripts", () => {
  test("bash: valid syntax, registers the function, completes sub-commands and flags", () => {
    const file = join(tempDir(), "prexorctl.bash");
    writeFileSync(file, completionScript(ctlCommand, "bash"));
    expect(spawnSync("bash", ["-n", file]).status).toBe(0);
    const probe = (words: string[]) =>
      spawnSync(
        "bash",
        [
          "-c",
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _prexorctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8" },
      ).stdout.trim();
    expect(probe(["prexorctl", "gr"])).toBe("group");
    expect(probe(["prexorctl", "group", "sc"])).toBe("scale");
    expect(probe(["prexorctl", "--context", "prod", "node", "dr"])).toBe("drain");
    expect(probe(["prexorctl", "group", "create", "--max-p"])).toBe("--max-players");
    expect(probe(["prexorctl", "group", "list", "-o", "ya"])).toBe("yaml");
  });

  test("zsh and fish scripts name every command path and parse (when the shell is installed)", () => {
    for (const shell of ["zsh", "fish"] as const) {
      const script = completionScript(ctlCommand, shell);
      for (const { path } of all.filter((c) => c.path.length > 0))
        expect(script).toContain(`'${path.join(" ")}'`);
      if (!Bun.which(shell)) continue;
      const file = join(tempDir(), `prexorctl.${shell}`);
      writeFileSync(file, script);
      expect(spawnSync(shell, ["-n", file]).status, shell).toBe(0);
    }
  });

  test("`completion fish` reaches a pipe byte for byte, every time (the script is > 64 KiB)", async () => {
    const expected = completionScript(ctlCommand, "fish");
    expect(Buffer.byteLength(expected)).toBeGreaterThan(128 * 1024);
    const main = join(import.meta.dir, "../../../src/main.ts");
    for (let run = 0; run < 4; run++) {
      // Through `cat`, a separate reader process on a kernel pipe: the writer meets a full pipe.
      const child = Bun.spawn(["sh", "-c", 'bun "$0" ctl completion fish | cat', main], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = await new Response(child.stdout).text();
      expect(await child.exited).toBe(0);
      expect(out.length).toBe(expected.length);
      expect(out === expected).toBe(true);
    }
  }, 60_000);

  test("fish completes commands, flags and -o values (when fish is installed)", () => {
    if (!Bun.which("fish")) return;
    const file = join(tempDir(), "prexorctl.fish");
    writeFileSync(file, completionScript(ctlCommand, "fish"));
    const complete = (line: string) =>
      spawnSync("fish", ["-c", `source ${file}; complete -C ${JSON.stringify(line)}`], { encoding: "utf8" })
        .stdout.split("\n")
        .map((l) => l.split("\t")[0])
        .filter(Boolean);
    expect(complete("prexorctl gr")).toEqual(["group"]);
    expect(complete("prexorctl node drain --no-sh")).toEqual(["--no-shutdown"]);
    expect(complete("prexorctl group list -o y")).toEqual(["yaml"]);
  });
});
