import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseControllerConfig } from "../../../src/config/controller-config.ts";
import { LISTEN_DEFAULTS, listenSettingsOf, untouchedListenDefaults } from "../../../src/roles/rest-early.ts";
import { tempDir } from "../../support/temp-dirs.ts";

describe("binding REST before the config loads", () => {
  test("the restated listener defaults are the schema's", () => {
    expect(listenSettingsOf(parseControllerConfig("", "controller.yml", { env: {} }))).toEqual({
      ...LISTEN_DEFAULTS,
    });
  });

  test("no controller.yml and no variable under uuid, runtime or http: the defaults", () => {
    const file = join(tempDir(), "config/controller.yml");
    expect(untouchedListenDefaults(file, {})).toEqual({ ...LISTEN_DEFAULTS });
    // other keys are checked after the bind, with the rest of the config
    expect(
      untouchedListenDefaults(file, {
        PREXOR_CATALOG__DOWNLOADS__ENABLED: "false",
        PREXOR_SCHEDULER__EVALUATION_INTERVAL_SECONDS: "x",
        PREXOR_DAEMON_NODE_ID: "n1",
        HTTP_PORT: "1",
      }),
    ).toEqual({ ...LISTEN_DEFAULTS });
  });

  test("a variable the loader would apply to a listener key: the config loads first", () => {
    const file = join(tempDir(), "config/controller.yml");
    for (const name of [
      "PREXOR_HTTP__PORT",
      "PREXOR_HTTP__MAX_BODY_BYTES",
      "PREXOR_RUNTIME__DATA_DIR",
      "PREXOR_RUNTIME__PROFILE",
      "PREXOR_UUID",
      "PREXOR_Http__Host",
    ]) {
      expect(untouchedListenDefaults(file, { [name]: "1" })).toBeUndefined();
    }
  });

  test("a controller.yml, even an empty one: the config loads first", () => {
    const root = tempDir();
    mkdirSync(join(root, "config"));
    const file = join(root, "config/controller.yml");
    writeFileSync(file, "");
    expect(untouchedListenDefaults(file, {})).toBeUndefined();
  });
});
