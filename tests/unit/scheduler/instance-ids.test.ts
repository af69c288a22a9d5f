import { describe, expect, test } from "bun:test";
import { isSequentialId } from "../../../src/controller/scheduler/instance-ids.ts";
import { group, instance, node, ofKind, tick, world } from "./harness.ts";

const nodes = [node("n1", { totalMemoryMb: 65_536 })];
const idsPlaced = (w: Parameters<typeof tick>[0]) => ofKind(tick(w), "place").map((p) => p.instanceId);

describe("instance IDs", () => {
  test("recognises `{group}-{N}` exactly", () => {
    expect(isSequentialId("lobby-1", "lobby")).toBe(true);
    expect(isSequentialId("lobby-12", "lobby")).toBe(true);
    expect(isSequentialId("lobby-01", "lobby")).toBe(false);
    expect(isSequentialId("lobby-", "lobby")).toBe(false);
    expect(isSequentialId("lobby-1a", "lobby")).toBe(false);
    expect(isSequentialId("lobbyx1", "lobby")).toBe(false);
    expect(isSequentialId("lobby-1-2", "lobby")).toBe(false);
    expect(isSequentialId("lobby-1-2", "lobby-1")).toBe(true);
  });

  test("fill the lowest gaps first", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 4 })],
      nodes,
      instances: [instance("lobby-1", "lobby", "n1"), instance("lobby-3", "lobby", "n1", { port: 30001 })],
    });
    expect(idsPlaced(w)).toEqual(["lobby-2", "lobby-4"]);
  });

  test("a terminal record gives its ID back", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 2 })],
      nodes,
      instances: [
        instance("lobby-1", "lobby", "n1", { state: "CRASHED" }),
        instance("lobby-2", "lobby", "n1"),
      ],
    });
    expect(idsPlaced(w)).toEqual(["lobby-1"]);
  });

  test("stay unique across groups when a declared static name looks like another group's ID", () => {
    const hub = (priority: number) =>
      group("hub", { scalingMode: "STATIC", minInstances: 1, staticInstanceNames: ["lobby-1"], priority });
    const lobby = group("lobby", { minInstances: 1, portRangeStart: 31000, portRangeEnd: 31010 });
    // hub first: it takes "lobby-1", so lobby must skip it.
    expect(idsPlaced(world({ groups: [hub(5), lobby], nodes }))).toEqual(["lobby-1", "lobby-2"]);
    // lobby first: it takes "lobby-1", so hub falls back to its own sequence.
    expect(idsPlaced(world({ groups: [hub(0), { ...lobby, priority: 5 }], nodes }))).toEqual([
      "lobby-1",
      "hub-1",
    ]);
    // A live instance of hub already holds "lobby-1".
    const held = world({ groups: [hub(0), lobby], nodes, instances: [instance("lobby-1", "hub", "n1")] });
    expect(idsPlaced(held)).toEqual(["lobby-2"]);
    // A live instance of lobby holds "lobby-1": hub cannot have it.
    const taken = world({
      groups: [hub(0), lobby],
      nodes,
      instances: [instance("lobby-1", "lobby", "n1", { port: 31000 })],
    });
    expect(idsPlaced(taken)).toEqual(["hub-1"]);
  });
});
