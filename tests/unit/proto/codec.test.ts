import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Root, Writer } from "protobufjs";
import {
  ControllerMessage,
  DaemonMessage,
  FrameErrorCode,
  Heartbeat,
  Hello,
  InstanceState,
  Pong,
  StartInstance,
} from "../../../src/wire/index.ts";

/** protobufjs' own reflection codec over the same .proto files: the reference our codecs must match. */
const reference = (() => {
  const root = new Root();
  root.resolvePath = (_origin, target) => join(import.meta.dir, "../../../proto", target);
  root.loadSync(["prexor/v1/daemon.proto", "prexor/v1/bootstrap.proto"]);
  root.resolveAll();
  return root;
})();

const toObjectOptions = { longs: Number, enums: Number, defaults: false, oneofs: false } as const;

function sampleHello(): Hello {
  return Hello.create({
    nodeId: "node-1",
    daemonVersion: "0.1.0",
    protocolVersion: 1,
    capacity: {
      cpuUsage: 0.25,
      availableCpus: 8,
      totalMemoryMb: 32768,
      usedMemoryMb: 1024,
      totalDiskMb: 0,
      freeDiskMb: 9_000_000,
    },
    labels: { region: "eu", "rack.zone": "b" },
    runningInstances: [
      {
        instanceId: "lobby-1",
        group: "lobby",
        state: InstanceState.RUNNING,
        port: 30000,
        playerCount: 3,
        uptimeMs: 86_400_000_000,
        planHash: "ab12",
        detail: "",
        maxPlayers: 20,
        playerSample: ["Alex", "Steve"],
        playerSampleIds: ["", "8667ba71-b85a-4004-af54-457a9734eed7"],
      },
    ],
    advertiseAddress: "10.0.0.5",
    highestEpochSeen: 2 ** 40 + 7,
    usedPorts: [30000, 30001, 25565],
  });
}

function sampleStart(): ControllerMessage {
  return ControllerMessage.create({
    epoch: 42,
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    frame: {
      case: "startInstance",
      value: StartInstance.create({
        instanceId: "lobby-2",
        group: "lobby",
        pluginToken: "secret",
        deploymentRevision: 3,
        fence: { scope: "group:lobby", token: 9_007_199_254_740_991 },
        plan: {
          planHash: "f00d",
          instanceId: "lobby-2",
          group: "lobby",
          nodeId: "node-1",
          port: 30001,
          memoryMb: 1024,
          isolation: { cpuReservation: 0.5, diskReservationMb: 2048 },
          jvmArgs: ["-XX:+UseG1GC"],
          env: { CLOUD_GROUP: "lobby" },
          staticInstance: false,
          protectedPaths: [],
          templates: [{ name: "base", sha256: "aa", source: "group" }],
          runtime: undefined,
          extensions: [],
          configPatches: [{ file: "server.properties", key: "motd", value: "hi", op: 1 }],
          variableOverrides: {},
          createdAtMs: 1_763_900_000_000,
        },
      }),
    },
  });
}

describe("generated codecs", () => {
  test("round-trip a daemon Hello frame", () => {
    const message = DaemonMessage.create({ frame: { case: "hello", value: sampleHello() } });
    const decoded = DaemonMessage.decode(DaemonMessage.encode(message).finish());
    expect(decoded).toEqual(message);
  });

  test("round-trip a controller StartInstance frame with epoch and fence", () => {
    const message = sampleStart();
    expect(ControllerMessage.decode(ControllerMessage.encode(message).finish())).toEqual(message);
  });

  test("bytes written by our codec decode identically with protobufjs reflection", () => {
    const bytes = DaemonMessage.encode(
      DaemonMessage.create({ frame: { case: "hello", value: sampleHello() } }),
    ).finish();
    const type = reference.lookupType("prexor.v1.DaemonMessage");
    const viaReference = type.toObject(type.decode(bytes), toObjectOptions) as {
      hello: Record<string, unknown>;
    };
    expect(viaReference.hello.nodeId).toBe("node-1");
    expect(viaReference.hello.highestEpochSeen).toBe(2 ** 40 + 7);
    expect(viaReference.hello.usedPorts).toEqual([30000, 30001, 25565]);
    expect(viaReference.hello.labels).toEqual({ region: "eu", "rack.zone": "b" });
    expect((viaReference.hello.runningInstances as { state: number }[])[0]?.state).toBe(
      InstanceState.RUNNING,
    );
  });

  test("bytes written by protobufjs reflection decode identically with our codec", () => {
    const type = reference.lookupType("prexor.v1.ControllerMessage");
    const original = sampleStart();
    const plain = JSON.parse(JSON.stringify(original));
    // Reflection wants the oneof member as a plain property.
    const reflected = type.fromObject({
      epoch: plain.epoch,
      traceparent: plain.traceparent,
      startInstance: plain.frame.value,
    });
    const decoded = ControllerMessage.decode(type.encode(reflected).finish());
    expect(decoded).toEqual(original);
  });

  test("fields at their default value are not written", () => {
    expect(Pong.encode(Pong.create()).finish().length).toBe(0);
    expect(Heartbeat.encode(Heartbeat.create({ usedPorts: [] })).finish().length).toBe(0);
  });

  test("a oneof member is written even when it is empty", () => {
    const message = ControllerMessage.create({ frame: { case: "cacheStatusRequest", value: {} } });
    const bytes = ControllerMessage.encode(message).finish();
    expect(bytes.length).toBeGreaterThan(0);
    expect(ControllerMessage.decode(bytes).frame?.case).toBe("cacheStatusRequest");
  });

  test("unknown fields are skipped, so newer peers can add fields", () => {
    const known = Pong.encode({ sequence: 5 }).finish();
    const extra = new Writer()
      .uint32((999 << 3) | 2)
      .string("from the future")
      .uint32((998 << 3) | 0)
      .uint64(1)
      .finish();
    const combined = new Uint8Array([...known, ...extra]);
    expect(Pong.decode(combined)).toEqual({ sequence: 5 });
  });

  test("an unknown frame decodes as an unset oneof", () => {
    const bytes = new Writer()
      .uint32((250 << 3) | 2)
      .bytes(new Uint8Array([8, 1]))
      .finish();
    expect(DaemonMessage.decode(bytes).frame).toBeUndefined();
  });

  test("repeated numbers are accepted packed and unpacked", () => {
    const unpacked = new Writer()
      .uint32((3 << 3) | 0)
      .uint32(25565)
      .uint32((3 << 3) | 0)
      .uint32(25566)
      .finish();
    expect(Heartbeat.decode(unpacked).usedPorts).toEqual([25565, 25566]);
    const packed = Heartbeat.encode(Heartbeat.create({ usedPorts: [25565, 25566] })).finish();
    expect(packed[0]).toBe((3 << 3) | 2);
    expect(Heartbeat.decode(packed).usedPorts).toEqual([25565, 25566]);
  });

  test("a 64-bit value beyond 2^53 is rejected instead of rounded", () => {
    const bytes = new Writer()
      .uint32((1 << 3) | 0)
      .uint64("18446744073709551615")
      .finish();
    expect(() => ControllerMessage.decode(bytes)).toThrow(RangeError);
  });

  test("enum values this build does not know survive as numbers", () => {
    const bytes = new Writer()
      .uint32((1 << 3) | 0)
      .int32(77)
      .finish();
    const error = DaemonMessage.decode(
      new Writer()
        .uint32((20 << 3) | 2)
        .bytes(bytes)
        .finish(),
    );
    expect(error.frame?.case).toBe("error");
    if (error.frame?.case === "error") expect(error.frame.value.code as number).toBe(77);
    expect(FrameErrorCode[FrameErrorCode.STALE_EPOCH]).toBe("STALE_EPOCH");
  });

  test("a map key named __proto__ stays data", () => {
    const message = Hello.create({ labels: JSON.parse('{"__proto__": "x", "a": "b"}') });
    const decoded = Hello.decode(Hello.encode(message).finish());
    expect(Object.getPrototypeOf(decoded.labels)).toBe(Object.prototype);
    expect(Object.keys(decoded.labels).sort()).toEqual(["__proto__", "a"]);
  });

  test("truncated input fails loudly", () => {
    const bytes = DaemonMessage.encode(
      DaemonMessage.create({ frame: { case: "hello", value: sampleHello() } }),
    ).finish();
    expect(() => DaemonMessage.decode(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
