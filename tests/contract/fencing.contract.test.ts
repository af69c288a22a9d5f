import { afterEach, describe, expect, test } from "bun:test";
import type { Coordination } from "../../src/coord/port.ts";
import { AppError } from "../../src/core/errors.ts";
import type { Doc, DurableStore } from "../../src/store/port.ts";
import { type AdapterCase, coordAdapters, storeAdapters } from "../support/adapters.ts";
import { waitFor } from "../support/wait.ts";

interface Group extends Doc {
  desired: number;
  writer: string;
}

const stores = await storeAdapters();
const coords = await coordAdapters();
// The pairs each profile runs: development (embedded + memory), production (mongodb + valkey).
const pairs: Array<[AdapterCase<DurableStore>, AdapterCase<Coordination>]> = [
  [stores[0]!, coords[0]!],
  [stores[1]!, coords[1]!],
];

for (const [storeCase, coordCase] of pairs) {
  const skip = storeCase.skip ?? coordCase.skip;
  describe.skipIf(Boolean(skip))(`fencing at the write: ${storeCase.name} + ${coordCase.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0)) await fn();
    });

    test("a writer that stalls past its lease TTL cannot land anything after the next holder wrote", async () => {
      const store = await storeCase.open();
      const coord = await coordCase.open();
      cleanup.push(
        () => store.close(),
        () => coord.close(),
      );
      const groups = store.collection<Group>("groups");
      const scope = "group:lobby";

      const leaseA = (await coord.acquireLease(scope, "controller-a", 200))!;
      const fenceA = { scope, token: leaseA.token };
      await groups.insert({ _id: "lobby", desired: 1, writer: "a" }, { fence: fenceA });

      // A stalls (GC pause, frozen VM); B takes the lease once it lapses and writes.
      const leaseB = await waitFor(() => coord.acquireLease(scope, "controller-b", 10_000), {
        what: "B to take the lease",
      });
      expect(leaseB.token).toBeGreaterThan(leaseA.token);
      const fenceB = { scope, token: leaseB.token };
      await groups.update("lobby", { desired: 2, writer: "b" }, { fence: fenceB });

      // A wakes up and carries on as if it still held the lease.
      expect(await coord.isLeaseCurrent(leaseA)).toBe(false);
      const attempts = [
        () => groups.update("lobby", { desired: 99, writer: "a" }, { fence: fenceA }),
        () => groups.put({ _id: "lobby", desired: 98, writer: "a" }, { fence: fenceA }),
        () => groups.insert({ _id: "a-only", desired: 1, writer: "a" }, { fence: fenceA }),
        () => groups.delete("lobby", { fence: fenceA }),
      ];
      for (const attempt of attempts) {
        const err = await attempt().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe("STALE_FENCING_TOKEN");
      }
      expect(await groups.get("lobby")).toMatchObject({ desired: 2, writer: "b", _fence: fenceB });
      expect(await groups.get("a-only")).toBeNull();
      expect(await groups.count({ writer: "a" })).toBe(0);
      expect(await store.fenceHighWater(scope)).toBe(leaseB.token);
    });
  });
}
