import { describe, expect, test } from "bun:test";
import { classifyCrash } from "../../../../src/core/crash/classify-crash.ts";
import { classifyExit, isCrashExit } from "../../../../src/core/crash/crash-class.ts";
import { EMPTY_TAIL_SIGNATURE } from "../../../../src/core/crash/crash-signature.ts";
import { normalizeForSignature, stripLogPrefix } from "../../../../src/core/crash/log-line.ts";
import * as logs from "./log-fixtures.ts";

describe("classification from the log tail", () => {
  test("Paper OutOfMemoryError: Java heap space → OOM", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.paperOomTail("lobby-3", "14:02", 3541) });
    expect(result.class).toBe("OOM");
    expect(result.reason).toBe("java.lang.OutOfMemoryError: Java heap space");
    expect(result.signature).toMatch(/^[0-9a-f]{16}$/);
  });

  test("JVM native allocation failure → OOM", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.jvmNativeOomTail });
    expect(result.class).toBe("OOM");
    expect(result.reason).toBe(
      "# There is insufficient memory for the Java Runtime Environment to continue.",
    );
  });

  test("OOM wins over whatever else the tail shows, even a later signal exit", () => {
    const tail = [...logs.pluginEnableTail, ...logs.paperOomTail("lobby-1", "10:00", 3541)];
    expect(classifyCrash({ exitCode: 137, logTail: tail }).class).toBe("OOM");
  });

  test("Paper FAILED TO BIND → PORT_BIND_FAILURE with the exception as reason", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.paperBindTail });
    expect(result.class).toBe("PORT_BIND_FAILURE");
    expect(result.reason).toBe(
      "The exception was: io.netty.channel.unix.Errors$NativeIoException: bind(..) failed: Address already in use",
    );
  });

  test("Velocity BindException → PORT_BIND_FAILURE", () => {
    expect(classifyCrash({ exitCode: 1, logTail: logs.velocityBindTail }).class).toBe("PORT_BIND_FAILURE");
  });

  test("only the FAILED TO BIND banner is enough", () => {
    const result = classifyCrash({ exitCode: 1, logTail: ["[10:15:03 WARN]: **** FAILED TO BIND TO PORT!"] });
    expect(result.class).toBe("PORT_BIND_FAILURE");
    expect(result.reason).toBe("**** FAILED TO BIND TO PORT!");
  });

  test("UnsupportedClassVersionError → UNSUPPORTED_JAVA", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.unsupportedJavaTail });
    expect(result.class).toBe("UNSUPPORTED_JAVA");
    expect(
      result.reason.startsWith("java.lang.UnsupportedClassVersionError: io/papermc/paperclip/Main"),
    ).toBe(true);
    expect(result.reason.length).toBeLessThanOrEqual(200);
    expect(result.reason.endsWith("…")).toBe(true);
  });

  test("Paper's own Java version check → UNSUPPORTED_JAVA", () => {
    expect(classifyCrash({ exitCode: 1, logTail: logs.paperJavaCheckTail }).class).toBe("UNSUPPORTED_JAVA");
  });

  test("corrupt or missing jar → JAR_INVALID", () => {
    const corrupt = classifyCrash({ exitCode: 1, logTail: logs.corruptJarTail });
    expect(corrupt).toMatchObject({
      class: "JAR_INVALID",
      reason: "Error: Invalid or corrupt jarfile server.jar",
    });
    expect(classifyCrash({ exitCode: 1, logTail: logs.missingJarTail }).class).toBe("JAR_INVALID");
    expect(corrupt.signature).not.toBe(
      classifyCrash({ exitCode: 1, logTail: logs.missingJarTail }).signature,
    );
  });

  test("Paper watchdog → WATCHDOG", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.paperWatchdogTail(38) });
    expect(result.class).toBe("WATCHDOG");
    expect(result.reason).toBe("The server has stopped responding! This is (probably) not a Paper bug.");
  });

  test("vanilla watchdog → WATCHDOG", () => {
    const tail = [
      "[Server Watchdog/FATAL]: A single server tick took 60.00 seconds (should be max 0.05)",
      "[Server Watchdog/FATAL]: Considering it to be crashed, server will forcibly shutdown.",
    ];
    expect(classifyCrash({ exitCode: 1, logTail: tail }).class).toBe("WATCHDOG");
  });

  test("plugin enable failure → PLUGIN_ERROR", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.pluginEnableTail });
    expect(result.class).toBe("PLUGIN_ERROR");
    expect(result.reason).toBe("Error occurred while enabling Shopkeeper v2.3.1 (Is it up to date?)");
  });

  test("a plugin's missing class → CLASS_NOT_FOUND (ranked before plugin errors)", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.legacyPluginTail });
    expect(result.class).toBe("CLASS_NOT_FOUND");
    expect(result.reason).toContain("java.lang.NoClassDefFoundError: org/bukkit/craftbukkit/v1_8_R3");
  });

  test("StackOverflowError → STACK_OVERFLOW", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.stackOverflowTail(47) });
    expect(result).toMatchObject({ class: "STACK_OVERFLOW", reason: "java.lang.StackOverflowError: null" });
  });

  test("colour codes and multi-line entries are handled", () => {
    const tail = [
      "\u001b[31m[14:00:00 ERROR]: Encountered an unexpected exception\njava.lang.OutOfMemoryError: Metaspace\u001b[0m",
    ];
    const result = classifyCrash({ exitCode: 1, logTail: tail });
    expect(result).toMatchObject({ class: "OOM", reason: "java.lang.OutOfMemoryError: Metaspace" });
  });
});

describe("classification from the exit", () => {
  test.each([
    [0, null, "CLEAN", "Clean exit"],
    [1, null, "GENERAL_ERROR", "Exit code 1"],
    [130, null, "SIGINT", "Interrupted (SIGINT)"],
    [134, null, "SIGABRT", "Aborted"],
    [137, null, "SIGKILL", "Killed (SIGKILL)"],
    [139, null, "SIGSEGV", "Segmentation fault"],
    [143, null, "SIGTERM", "Terminated (SIGTERM)"],
    [42, null, "UNKNOWN", "Exit code 42"],
    [null, "SIGKILL", "SIGKILL", "Killed (SIGKILL)"],
    [null, "SIGTERM", "SIGTERM", "Terminated (SIGTERM)"],
    [null, "SIGSEGV", "SIGSEGV", "Segmentation fault"],
    [null, "SIGHUP", "UNKNOWN", "Killed by signal SIGHUP"],
    [null, null, "UNKNOWN", "Exited without a status"],
  ] as const)("exit %p signal %p → %s", (exitCode, signal, crashClass, reason) => {
    const result = classifyCrash({ exitCode, signal, logTail: [] });
    expect(result).toEqual({ class: crashClass, reason, signature: EMPTY_TAIL_SIGNATURE });
    expect(classifyExit({ exitCode, signal })).toBe(crashClass);
  });

  test("a tail without a known cause keeps the exit class; the reason is the innermost exception", () => {
    const result = classifyCrash({ exitCode: 1, logTail: logs.genericExceptionTail("lobby-2", "1b6d3586") });
    expect(result.class).toBe("GENERAL_ERROR");
    expect(result.reason).toBe(
      "Caused by: java.lang.IllegalStateException: /data/instances/lobby-2/world/session.lock held by com.example.worlds.Lock@1b6d3586",
    );
  });

  test("a tail with nothing recognizable falls back to the exit phrase, with a real signature", () => {
    const result = classifyCrash({
      exitCode: 137,
      logTail: ["[12:00:00 INFO]: Saving chunks for level 'world'"],
    });
    expect(result.class).toBe("SIGKILL");
    expect(result.reason).toBe("Killed (SIGKILL)");
    expect(result.signature).not.toBe(EMPTY_TAIL_SIGNATURE);
    expect(result.signature).toMatch(/^[0-9a-f]{16}$/);
  });

  test("a tail of blank lines counts as empty", () => {
    expect(classifyCrash({ exitCode: 137, logTail: ["", "  "] }).signature).toBe(EMPTY_TAIL_SIGNATURE);
  });
});

describe("crash signatures", () => {
  test("the same OOM on two instances, at different times and allocation sites, signs the same", () => {
    const a = classifyCrash({
      exitCode: 1,
      instanceId: "lobby-3",
      logTail: logs.paperOomTail("lobby-3", "14:02", 3541),
    });
    const b = classifyCrash({
      exitCode: 1,
      instanceId: "lobby-12",
      logTail: logs.paperOomTail("lobby-12", "23:59", 3512),
    });
    const c = classifyCrash({ exitCode: 137, instanceId: "lobby-1", logTail: logs.nettyThreadOomTail });
    expect(a.signature).toBe(b.signature);
    expect(a.signature).toBe(c.signature);
  });

  test("numbers in the message and frame (coordinates, counts, line numbers) do not split a signature", () => {
    const tail = (x: number, z: number, line: number) => [
      `[13:37:0${line % 10} ERROR]: Could not pass event ChunkLoadEvent to Regions v4.1.${x % 7}`,
      `java.lang.IllegalArgumentException: Invalid chunk coordinates ${x}, ${z} (max 1875000)`,
      `\tat com.example.regions.RegionIndex.lookup(RegionIndex.java:${line}) ~[Regions-4.1.${x % 7}.jar:?]`,
    ];
    const a = classifyCrash({ exitCode: 1, logTail: tail(1024, -77, 212) });
    const b = classifyCrash({ exitCode: 1, logTail: tail(31, 5, 219) });
    expect(a.class).toBe("GENERAL_ERROR");
    expect(a.signature).toBe(b.signature);
  });

  test("a different kind of heap exhaustion signs differently", () => {
    const heap = classifyCrash({ exitCode: 1, logTail: ["java.lang.OutOfMemoryError: Java heap space"] });
    const meta = classifyCrash({ exitCode: 1, logTail: ["java.lang.OutOfMemoryError: Metaspace"] });
    expect(heap.signature).not.toBe(meta.signature);
  });

  test("the same exception on two statically named instances signs the same", () => {
    const eu = classifyCrash({
      exitCode: 1,
      instanceId: "hub-eu",
      logTail: logs.genericExceptionTail("hub-eu", "1b6d3586"),
    });
    const us = classifyCrash({
      exitCode: 1,
      instanceId: "hub-us",
      logTail: logs.genericExceptionTail("hub-us", "4554617c"),
    });
    expect(eu.signature).toBe(us.signature);
  });

  test("without the instance id, an id in the message would split the signature", () => {
    const eu = classifyCrash({ exitCode: 1, logTail: logs.genericExceptionTail("hub-eu", "1b6d3586") });
    const us = classifyCrash({ exitCode: 1, logTail: logs.genericExceptionTail("hub-us", "1b6d3586") });
    expect(eu.signature).not.toBe(us.signature);
  });

  test("the first frame is part of the signature where it identifies the bug", () => {
    const tail = logs.genericExceptionTail("lobby-1", "1b6d3586");
    const moved = tail.map((line) =>
      line.replace("com.example.worlds.Lock.acquire", "com.example.worlds.Lock.tryAcquire"),
    );
    const a = classifyCrash({ exitCode: 1, logTail: tail });
    const b = classifyCrash({ exitCode: 1, logTail: moved });
    expect(a.signature).not.toBe(b.signature);
  });

  test("the exit class is part of the signature", () => {
    const tail = ["[12:00:00 INFO]: Saving chunks"];
    expect(classifyCrash({ exitCode: 137, logTail: tail }).signature).not.toBe(
      classifyCrash({ exitCode: 143, logTail: tail }).signature,
    );
  });

  test("watchdog and stack overflow signatures ignore pids and recursion depth", () => {
    expect(classifyCrash({ exitCode: 1, logTail: logs.paperWatchdogTail(38) }).signature).toBe(
      classifyCrash({ exitCode: 1, logTail: logs.paperWatchdogTail(4410) }).signature,
    );
    expect(classifyCrash({ exitCode: 1, logTail: logs.stackOverflowTail(47) }).signature).toBe(
      classifyCrash({ exitCode: 1, logTail: logs.stackOverflowTail(51) }).signature,
    );
  });

  test("pinned value: signatures are stored and compared across releases", () => {
    expect(
      classifyCrash({ exitCode: 1, logTail: ["java.lang.OutOfMemoryError: Java heap space"] }).signature,
    ).toBe("422a19d618151746");
  });
});

describe("log line helpers", () => {
  test.each([
    ["[14:02:41 ERROR]: Encountered an unexpected exception", "Encountered an unexpected exception"],
    ["[14:02:41] [Server thread/ERROR]: boom", "boom"],
    ["[main/INFO] [minecraft/DedicatedServer]: Starting", "Starting"],
    ["2026-11-23 14:02:41,123 ERROR boom", "boom"],
    ["2026-11-23T14:02:41.123Z [main] WARN x", "x"],
    ["\tat a.b.C.d(C.java:1)", "\tat a.b.C.d(C.java:1)"],
    ["java.lang.Error: x", "java.lang.Error: x"],
  ])("stripLogPrefix(%p) = %p", (line, expected) => {
    expect(stripLogPrefix(line)).toBe(expected);
  });

  test("normalizeForSignature removes what varies between occurrences", () => {
    expect(
      normalizeForSignature(
        "[12:00:00 ERROR]: Lock@1b6d3586 at 0x00007f3a2c001000 for 550e8400-e29b-41d4-a716-446655440000 on lobby-7 port 30002 build 12fa3a1b",
        "lobby-7",
      ),
    ).toBe("Lock@<hex> at <addr> for <uuid> on <instance> port N build <hex>");
    expect(normalizeForSignature("\tat a.B.c(B.java:57) ~[Shop-2.3.1.jar:?]")).toBe("at a.B.c(B.java:N)");
    expect(normalizeForSignature("chunk at -77, 5 on lobby-3 (x=-12)")).toBe(
      "chunk at N, N on lobby-N (x=N)",
    );
  });
});

describe("isCrashExit", () => {
  test("a non-zero exit outside a stop is a crash", () => {
    expect(isCrashExit("RUNNING", { exitCode: 1 })).toBe(true);
    expect(isCrashExit("STARTING", { exitCode: null, signal: "SIGKILL" })).toBe(true);
  });
  test("exit 0 and any exit during a requested stop are clean", () => {
    expect(isCrashExit("RUNNING", { exitCode: 0 })).toBe(false);
    expect(isCrashExit("STOPPING", { exitCode: 137 })).toBe(false);
    expect(isCrashExit("STOPPING", { exitCode: null, signal: "SIGKILL" })).toBe(false);
  });
});
