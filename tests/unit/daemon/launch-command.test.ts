import { describe, expect, test } from "bun:test";
import {
  expandArgv,
  instanceEnvironment,
  jvmArgv,
  launchPlaceholders,
  readyPatternFor,
  stopCommandFor,
} from "../../../src/daemon/supervisor/index.ts";

describe("jvmArgv", () => {
  test("servers: group JVM args, then the heap the plan was admitted with, then the jar, port and nogui", () => {
    expect(
      jvmArgv({
        javaPath: "/opt/java/bin/java",
        memoryMb: 1024,
        jvmArgs: ["-XX:+UseG1GC", "-Xmx8G"],
        jarFile: "server.jar",
        category: "SERVER",
        port: 30001,
      }),
    ).toEqual([
      "/opt/java/bin/java",
      "-XX:+UseG1GC",
      "-Xmx8G",
      "-Xmx1024M",
      "-Xms512M",
      "-jar",
      "server.jar",
      "--port",
      "30001",
      "nogui",
    ]);
  });

  test("proxies get neither --port nor nogui", () => {
    const argv = jvmArgv({
      javaPath: "java",
      memoryMb: 512,
      jvmArgs: [],
      jarFile: "velocity.jar",
      category: "PROXY",
      port: 25565,
    });
    expect(argv).toEqual(["java", "-Xmx512M", "-Xms256M", "-jar", "velocity.jar"]);
  });

  test("refuses a nonsensical heap", () => {
    expect(() =>
      jvmArgv({ javaPath: "java", memoryMb: 0, jvmArgs: [], jarFile: "a.jar", category: "SERVER", port: 1 }),
    ).toThrow(/memoryMb/);
  });
});

describe("custom argv templates", () => {
  const values = launchPlaceholders({
    instanceId: "lobby-1",
    group: "lobby",
    nodeId: "node-1",
    port: 30001,
    memoryMb: 768,
    instanceDir: "/srv/instances/lobby 1",
    rconPort: 25575,
    rconPassword: "p w'\"$x",
  });

  test("expands placeholders inside and across arguments", () => {
    expect(
      expandArgv(
        [
          "bin/server",
          "--port={PORT}",
          "--dir",
          "{INSTANCE_DIR}",
          "-m{MEMORY}M",
          "{GROUP}/{INSTANCE_ID}@{NODE_ID}",
        ],
        values,
      ),
    ).toEqual([
      "bin/server",
      "--port=30001",
      "--dir",
      "/srv/instances/lobby 1",
      "-m768M",
      "lobby/lobby-1@node-1",
    ]);
  });

  test("a value stays one argument whatever it contains (no shell)", () => {
    expect(expandArgv(["x", "{RCON_PASSWORD}"], values)).toEqual(["x", "p w'\"$x"]);
  });

  test("an unknown upper-case placeholder is an error; other braces are left alone", () => {
    expect(() => expandArgv(["x", "{JAR}"], values)).toThrow(/\{JAR\}/);
    expect(expandArgv(["x", '{"json":true}', "{lower}"], values)).toEqual(["x", '{"json":true}', "{lower}"]);
  });

  test("an empty template is refused", () => {
    expect(() => expandArgv([], values)).toThrow(/empty/);
  });
});

describe("platform conventions", () => {
  test("stop command: `stop` for servers, `end` for proxies", () => {
    expect(stopCommandFor("SERVER", "PAPER")).toBe("stop");
    expect(stopCommandFor("PROXY", "VELOCITY")).toBe("end");
    expect(stopCommandFor("SERVER", "bungeecord")).toBe("end");
  });

  test("ready lines", () => {
    expect(readyPatternFor("PAPER").test('[12:00:01 INFO]: Done (3.512s)! For help, type "help"')).toBe(true);
    expect(readyPatternFor("VELOCITY").test("[12:00:01 INFO]: Done (1,20s)!")).toBe(true);
    expect(readyPatternFor("PAPER").test("[12:00:01 INFO]: Loading libraries")).toBe(false);
    expect(readyPatternFor("WATERFALL").test("[12:00:01 INFO]: Listening on /0.0.0.0:25577")).toBe(true);
  });
});

describe("instanceEnvironment", () => {
  test("passes only allow-listed host variables and lets no group env override the cloud identity", () => {
    const env = instanceEnvironment({
      instanceId: "lobby-1",
      group: "lobby",
      nodeId: "node-1",
      port: 30001,
      cpuReservation: 0.5,
      diskReservationMb: 100,
      planEnv: { CLOUD_PORT: "1", CLOUD_CONTROLLER_URL: "http://ctl:8080", FOO: "bar" },
      pluginToken: "tok",
      rcon: { port: 25575, password: "pw" },
      hostEnv: { PATH: "/usr/bin", PREXOR_TOKEN: "admin-secret", HOME: "/root" },
    });
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/root",
      CLOUD_CONTROLLER_URL: "http://ctl:8080",
      FOO: "bar",
      CLOUD_INSTANCE_ID: "lobby-1",
      CLOUD_GROUP: "lobby",
      CLOUD_PORT: "30001",
      CLOUD_NODE_ID: "node-1",
      CLOUD_CPU_RESERVATION: "0.5",
      CLOUD_DISK_RESERVATION_MB: "100",
      CLOUD_PLUGIN_TOKEN: "tok",
      CLOUD_RCON_PORT: "25575",
      CLOUD_RCON_PASSWORD: "pw",
    });
  });
});
