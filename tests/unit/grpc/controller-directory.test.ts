/**
 * The controller directory node sessions read on every ping is one coordination scan per cache
 * period for all of them, and a failed scan is not remembered.
 */
import { expect, test } from "bun:test";
import { cachedControllerAddrs } from "../../../src/controller/grpc/controller-directory.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";

const entry = (addr: string) => JSON.stringify({ grpc: [addr], at: 0 });

test("reads once per cache period for every caller, then sees a controller added", async () => {
  const coord = new MemoryCoordination();
  let scans = 0;
  const list = coord.listSnapshots.bind(coord);
  coord.listSnapshots = (family) => {
    scans++;
    return list(family);
  };
  let now = 0;
  const directory = cachedControllerAddrs(coord, () => now);
  await coord.putSnapshot("controller", "a", entry("127.0.0.1:1"));
  expect(await Promise.all([directory(), directory(), directory()])).toEqual([
    ["127.0.0.1:1"],
    ["127.0.0.1:1"],
    ["127.0.0.1:1"],
  ]);
  await coord.putSnapshot("controller", "b", entry("127.0.0.1:2"));
  now += 4_999;
  expect(await directory()).toEqual(["127.0.0.1:1"]);
  expect(scans).toBe(1);
  now += 1;
  expect((await directory()).sort()).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
  expect(scans).toBe(2);
});

test("a failed scan is not cached: the next call reads again", async () => {
  const coord = new MemoryCoordination();
  let fail = true;
  const list = coord.listSnapshots.bind(coord);
  coord.listSnapshots = (family) => (fail ? Promise.reject(new Error("coordination down")) : list(family));
  const directory = cachedControllerAddrs(coord, () => 0);
  await expect(directory()).rejects.toThrow("coordination down");
  fail = false;
  await coord.putSnapshot("controller", "a", entry("127.0.0.1:1"));
  expect(await directory()).toEqual(["127.0.0.1:1"]);
});
