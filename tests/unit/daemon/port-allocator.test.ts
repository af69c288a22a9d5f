import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import {
  FOREIGN_PORT_TTL_MS,
  PortAllocator,
  PortRangeExhaustedError,
  PortUnavailableError,
  tcpBindProbe,
} from "../../../src/daemon/ports/index.ts";
import { freePort } from "../../support/ports.ts";

/** A probe that reports the given ports as bound by something outside the cloud. */
function probeWithBusy(...busy: number[]) {
  const probed: number[] = [];
  return {
    probed,
    probe: async (port: number) => {
      probed.push(port);
      return !busy.includes(port);
    },
  };
}

describe("PortAllocator", () => {
  test("hands out the lowest free port of the range and never the same port twice", async () => {
    const ports = new PortAllocator({ probe: probeWithBusy().probe });
    const range = { start: 30000, end: 30100 };
    expect(await ports.allocate("lobby-1", range)).toBe(30000);
    expect(await ports.allocate("lobby-2", range)).toBe(30001);
    expect(ports.usedPorts()).toEqual([30000, 30001]);
  });

  test("skips ports the host cannot bind", async () => {
    const { probe, probed } = probeWithBusy(30000, 30001);
    const ports = new PortAllocator({ probe });
    expect(await ports.allocate("lobby-1", { start: 30000, end: 30005 })).toBe(30002);
    expect(probed).toEqual([30000, 30001, 30002]);
  });

  test("concurrent allocations get distinct ports", async () => {
    const ports = new PortAllocator({ probe: async () => Bun.sleep(1).then(() => true) });
    const range = { start: 31000, end: 31010 };
    const got = await Promise.all(["a", "b", "c", "d"].map((owner) => ports.allocate(owner, range)));
    expect(new Set(got).size).toBe(4);
    expect(got.sort()).toEqual([31000, 31001, 31002, 31003]);
  });

  test("release frees every port of the owner for reuse", async () => {
    const ports = new PortAllocator({ probe: probeWithBusy().probe });
    const range = { start: 30000, end: 30001 };
    await ports.allocate("a", range);
    await ports.reserve("a", 25575);
    await ports.allocate("b", range);
    await expect(ports.allocate("c", range)).rejects.toBeInstanceOf(PortRangeExhaustedError);
    expect(ports.release("a").sort()).toEqual([25575, 30000]);
    expect(await ports.allocate("c", range)).toBe(30000);
  });

  test("reserve refuses a port another instance holds or the host has bound", async () => {
    const ports = new PortAllocator({ probe: probeWithBusy(40001).probe });
    await ports.reserve("a", 40000);
    await ports.reserve("a", 40000); // idempotent for the holder
    await expect(ports.reserve("b", 40000)).rejects.toBeInstanceOf(PortUnavailableError);
    await expect(ports.reserve("b", 40001)).rejects.toThrow(/already bound/);
    expect(ports.portsOf("b")).toEqual([]);
  });

  test("a port found bound by a foreign process is reported used for a while, so the scheduler places elsewhere", async () => {
    let t = 0;
    const busy = new Set([40002]);
    const ports = new PortAllocator({ probe: async (port) => !busy.has(port), now: () => t });
    await expect(ports.reserve("lobby-1", 40002)).rejects.toBeInstanceOf(PortUnavailableError);
    expect(ports.usedPorts()).toEqual([40002]);
    t = FOREIGN_PORT_TTL_MS - 1;
    expect(ports.usedPorts()).toEqual([40002]);
    t = FOREIGN_PORT_TTL_MS;
    expect(ports.usedPorts()).toEqual([]);
    // Seen bound again: reported again; found free later: forgotten at once.
    expect(await ports.allocate("lobby-2", { start: 40002, end: 40003 })).toBe(40003);
    expect(ports.usedPorts()).toEqual([40002, 40003]);
    busy.delete(40002);
    await ports.reserve("lobby-3", 40002);
    expect(ports.portsOf("lobby-3")).toEqual([40002]);
    ports.release("lobby-3");
    expect(ports.usedPorts()).toEqual([40003]);
  });

  test("rejects invalid ranges", async () => {
    const ports = new PortAllocator({ probe: probeWithBusy().probe });
    await expect(ports.allocate("a", { start: 10, end: 5 })).rejects.toThrow(/invalid port range/);
    await expect(ports.allocate("a", { start: 0, end: 5 })).rejects.toThrow(/invalid port/);
  });
});

describe("tcpBindProbe", () => {
  test("sees a real listener on loopback, also when probing the wildcard", async () => {
    const port = await freePort();
    expect(await tcpBindProbe(port, "127.0.0.1")).toBe(true);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      expect(await tcpBindProbe(port, "127.0.0.1")).toBe(false);
      expect(await tcpBindProbe(port, "0.0.0.0")).toBe(false);
      const ports = new PortAllocator();
      expect(await ports.allocate("x", { start: port, end: port + 50 })).not.toBe(port);
    } finally {
      server.close();
    }
  });
});
