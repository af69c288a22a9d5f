import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { type CtlConfig, configPath, loadConfig, saveConfig } from "../../../src/cli/config-store.ts";
import type { CliError } from "../../../src/cli/errors.ts";
import { normalizeServer, resolveTarget } from "../../../src/cli/session.ts";
import { tempDir } from "../../support/adapters.ts";

const config: CtlConfig = {
  currentContext: "prod",
  contexts: {
    prod: { server: "https://prod.example.com", token: "tok-prod", username: "admin" },
    dev: { server: "http://10.0.0.5:8080", token: "tok-dev" },
  },
};

describe("where requests go and with which token", () => {
  test("the current context by default", () => {
    expect(resolveTarget({}, {}, config)).toEqual({
      server: "https://prod.example.com",
      token: "tok-prod",
      contextName: "prod",
      serverFrom: "context",
      tokenFrom: "context",
    });
  });

  test("--context beats PREXOR_CONTEXT beats currentContext", () => {
    expect(resolveTarget({}, { PREXOR_CONTEXT: "dev" }, config).token).toBe("tok-dev");
    expect(resolveTarget({ context: "prod" }, { PREXOR_CONTEXT: "dev" }, config).token).toBe("tok-prod");
  });

  test("flag beats env beats context for the server; PREXOR_TOKEN beats the context's token", () => {
    const env = { PREXOR_CONTROLLER: "http://env:8080", PREXOR_TOKEN: "tok-env" };
    expect(resolveTarget({}, env, config)).toMatchObject({
      server: "http://env:8080",
      serverFrom: "env",
      token: "tok-env",
    });
    expect(resolveTarget({ server: "http://flag:1" }, env, config)).toMatchObject({
      server: "http://flag:1",
      serverFrom: "flag",
    });
  });

  test("a context's token is never sent to another server", () => {
    const t = resolveTarget({ server: "http://elsewhere:8080" }, {}, config);
    expect(t.token).toBeUndefined();
    expect(t.tokenFrom).toBe("none");
    // the same server spelled with a trailing slash is still the same server
    expect(resolveTarget({ server: "https://prod.example.com/" }, {}, config).token).toBe("tok-prod");
  });

  test("empty variables count as unset; no context falls back to the local default", () => {
    expect(resolveTarget({}, { PREXOR_TOKEN: "", PREXOR_CONTROLLER: " " }, { contexts: {} })).toEqual({
      server: "http://127.0.0.1:8080",
      token: undefined,
      contextName: undefined,
      serverFrom: "default",
      tokenFrom: "none",
    });
  });

  test("naming a context that does not exist is an error (exit 4)", () => {
    expect(() => resolveTarget({ context: "nope" }, {}, config)).toThrow('context "nope" does not exist');
    try {
      resolveTarget({}, { PREXOR_CONTEXT: "gone" }, config);
    } catch (err) {
      expect((err as CliError).exitCode).toBe(4);
    }
  });

  test("server URLs are checked and normalised", () => {
    expect(normalizeServer("10.0.0.5:8080")).toBe("http://10.0.0.5:8080");
    expect(normalizeServer("https://h/prefix/")).toBe("https://h/prefix");
    expect(() => normalizeServer("ftp://h")).toThrow("http:// or https://");
  });
});

describe("the config file", () => {
  test("lives under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/x" })).toBe("/x/prexorctl/config.yml");
    expect(configPath({ HOME: "/home/op" })).toBe("/home/op/.config/prexorctl/config.yml");
  });

  test("is written 0600 in a 0700 directory and reads back the same", () => {
    const file = join(tempDir(), "cfg", "prexorctl", "config.yml");
    saveConfig(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    expect(loadConfig(file)).toEqual(config);
  });

  test("a missing file is an empty config; broken YAML names the line; legacy `controller` keys are read", async () => {
    const dir = tempDir();
    expect(loadConfig(join(dir, "none.yml"))).toEqual({ contexts: {} });
    const bad = join(dir, "bad.yml");
    await Bun.write(bad, "contexts:\n  a: [\n");
    expect(() => loadConfig(bad)).toThrow(/bad\.yml:\d+: invalid YAML/);
    const legacy = join(dir, "legacy.yml");
    await Bun.write(
      legacy,
      "currentContext: default\ncontexts:\n  default:\n    controller: http://h:8080\n    token: t\n",
    );
    expect(loadConfig(legacy)).toEqual({
      currentContext: "default",
      contexts: { default: { server: "http://h:8080", token: "t" } },
    });
  });
});
