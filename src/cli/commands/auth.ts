import { createApi } from "../client/api.ts";
import { HttpClient } from "../client/http.ts";
import { leaf } from "../command-kit.ts";
import { configPath, loadConfig, saveConfig } from "../config-store.ts";
import { ApiError, CliError, EXIT } from "../errors.ts";
import { printDone } from "../output/render.ts";
import { parseDuration } from "../parse.ts";
import { askLine, askSecret, readStdin, secretFromStdin, stdinIsTty } from "../prompt.ts";
import { DEFAULT_SERVER, DEFAULT_TIMEOUT, env, normalizeServer } from "../session.ts";

const envValue = (name: string) => env(process.env, name);

export const loginCommand = leaf({
  name: "login",
  description: "Log in to a controller and keep the token in a context",
  examples: [
    "prexorctl login --server http://10.0.0.5:8080 --username admin",
    'printf %s "$PASSWORD" | prexorctl login --server https://cloud.example.com -u ci --password-stdin --context prod',
  ],
  args: {
    username: { type: "string", alias: "u", description: "user to log in as (asked for on a terminal)" },
    "password-stdin": { type: "boolean", description: "read the password from stdin instead of asking" },
  },
  async run({ args, out }) {
    const file = configPath();
    const config = loadConfig(file);
    const contextName =
      args.context?.trim() || envValue("PREXOR_CONTEXT") || config.currentContext || "default";
    const existing = config.contexts[contextName];
    const interactive = stdinIsTty() && !args["password-stdin"];
    let server = args.server?.trim() || envValue("PREXOR_CONTROLLER") || existing?.server;
    if (!server && interactive)
      server = (await askLine(`Controller URL [${DEFAULT_SERVER}]: `)).trim() || DEFAULT_SERVER;
    server = normalizeServer(server ?? DEFAULT_SERVER);
    let username = args.username?.trim() || existing?.username;
    if (!username && interactive) username = (await askLine("Username: ")).trim();
    if (!username) throw new CliError("--username is required when stdin is not a terminal", EXIT.USAGE);
    const password = args["password-stdin"]
      ? secretFromStdin(await readStdin())
      : await askSecret("Password: ");
    if (password === "") throw new CliError("the password is empty", EXIT.USAGE);

    const timeoutMs = parseDuration(args["request-timeout"] || DEFAULT_TIMEOUT, "--request-timeout")!;
    const api = createApi(new HttpClient({ server, timeoutMs }));
    let result: Awaited<ReturnType<typeof api.auth.login>>;
    try {
      result = await api.auth.login(username, password);
    } catch (err) {
      // A refused login is a credentials problem, not a stale token: no "log in again" hint.
      if (err instanceof ApiError && (err.status === 401 || err.code === "ACCOUNT_LOCKED"))
        throw new CliError(`${err.code}: ${err.message}`, EXIT.AUTH);
      throw err;
    }
    config.contexts[contextName] = {
      server,
      username: result.user.username,
      token: result.token,
      tokenExpiresAt: result.expiresAt,
    };
    config.currentContext = contextName;
    saveConfig(file, config);
    printDone(
      out,
      `Logged in to ${server} as ${result.user.username} (${result.user.role}); context "${contextName}" is current.`,
      { context: contextName, server, user: result.user, expiresAt: result.expiresAt },
    );
    if (result.user.mustChangePassword) {
      out.note(
        "This account must choose its own password before anything else works: run `prexorctl user change-password`, then log in again.",
      );
    }
  },
});

export const logoutCommand = leaf({
  name: "logout",
  description: "Revoke the current token on the controller and forget it",
  examples: ["prexorctl logout", "prexorctl logout --context prod"],
  async run({ session, out }) {
    const s = session();
    if (!s.token)
      throw new CliError(
        `not logged in to ${s.server}${s.contextName ? ` (context "${s.contextName}")` : ""}`,
        EXIT.AUTH,
      );
    let failure: unknown;
    try {
      await s.api.auth.logout();
    } catch (err) {
      // Already invalid means already logged out; anything else is reported after the local cleanup.
      if (!(err instanceof ApiError && err.status === 401)) failure = err;
    }
    if (s.tokenFrom === "context" && s.contextName) {
      const entry = s.config.contexts[s.contextName];
      if (entry) {
        delete entry.token;
        delete entry.tokenExpiresAt;
        saveConfig(s.configFile, s.config);
      }
    }
    if (failure) {
      throw new CliError(
        `${failure instanceof Error ? failure.message : String(failure)}`,
        EXIT.ERROR,
        "the token was removed locally but could not be revoked; it stays valid until it expires",
      );
    }
    const where =
      s.tokenFrom === "env" ? "the token in PREXOR_TOKEN is revoked; unset it" : `context "${s.contextName}"`;
    printDone(out, `Logged out of ${s.server} (${where}).`, { status: "LOGGED_OUT", server: s.server });
  },
});
