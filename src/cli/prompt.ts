import { createInterface } from "node:readline";
import { CliError, EXIT } from "./errors.ts";

export function stdinIsTty(): boolean {
  return process.stdin.isTTY === true;
}

/** All of stdin, for `--password-stdin` and `-f -`. */
export async function readStdin(): Promise<string> {
  return await Bun.stdin.text();
}

/** A secret piped in: exactly one trailing newline (from `echo`) is not part of it. */
export function secretFromStdin(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/** Asks on stderr, reads one line from the terminal with echo (URLs, usernames, y/N). */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/**
 * Reads a secret from the terminal without echoing it: raw mode, our own line editing (backspace,
 * Ctrl-C, Ctrl-D/Enter), so the password never appears on screen or in scrollback.
 */
export function askSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return Promise.reject(
      new CliError(
        "stdin is not a terminal, so the password cannot be asked for",
        EXIT.USAGE,
        "hint: pipe it in with --password-stdin",
      ),
    );
  }
  process.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let value = "";
    const finish = (err?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish();
        if (ch === "\u0003") return finish(new CliError("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** y/N on a terminal; without one, the caller must have passed --yes. */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!stdinIsTty())
    throw new CliError(`${question} — refusing without --yes (stdin is not a terminal)`, EXIT.USAGE);
  const answer = (await askLine(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new CliError("aborted");
}
