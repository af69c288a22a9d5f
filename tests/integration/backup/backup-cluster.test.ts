/**
 * The backup cut under active-active: two production-profile controllers (the MongoDB-wire test
 * server + redis-server) with 8 writers split across both. The backup is taken through controller
 * 1; the hold spans the cluster, so no group whose request was sent after the cut is in the bundle
 * (a per-controller hold lets controller 2's writes land during the scan), every group acknowledged
 * before the cut is, and a restore through controller 2 (which closes writes on controller 1 too)
 * brings back exactly the bundle's groups.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningController } from "../../../src/controller/boot.ts";
import { mongoServer, redisServer } from "../../support/servers.ts";
import { randomId, waitFor } from "../../support/wait.ts";
import { adminApi, startClusterMember } from "../scheduler/fleet-harness.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
if (skip !== undefined) console.warn(`backup cluster suite skipped: ${skip}`);

const controllers: RunningController[] = [];
afterAll(async () => {
  for (const c of controllers.reverse()) await c.stop();
});

test.skipIf(skip !== undefined)(
  "8 writers on two controllers: the bundle is the state at the cut, and restores to it",
  async () => {
    const database = randomId("bkc_");
    const boot = async () => {
      const c = await startClusterMember({
        mongoUri: mongo.server!.uri,
        redisUri: redis.server!.uri,
        database,
        intervalSeconds: 30,
        clusterSecret: "backup-cluster-secret-0123456789",
      });
      controllers.push(c);
      return c;
    };
    const one = await boot();
    const two = await boot();
    const apis = [await adminApi(one), await adminApi(two)];

    const sent = new Map<string, number>();
    const acked = new Map<string, number>();
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      const api = apis[w % 2]!;
      for (let i = 0; !stop && i < 400; i++) {
        const name = `c${w}-${i}`;
        sent.set(name, Date.now());
        const res = await api("POST", "/api/v1/groups", { name });
        if (res.status === 201) acked.set(name, Date.now());
        await res.body?.cancel();
      }
    });
    await waitFor(() => acked.size >= 40, {
      timeoutMs: 60_000,
      intervalMs: 5,
      what: "writes before the backup",
    });
    const created = await apis[0]!("POST", "/api/v1/backups", { scope: "mongo" });
    const body = (await created.json()) as { id: string; cut: { at: number; heldMs: number } };
    expect(created.status).toBe(201);
    // Keep writing a little past the cut, then stop.
    const afterCut = acked.size;
    await waitFor(() => acked.size >= afterCut + 20, {
      timeoutMs: 60_000,
      intervalMs: 5,
      what: "writes after",
    });
    stop = true;
    await Promise.all(writers);

    const bundleDir = join(one.backups.backupDirectory, body.id);
    const inBundle = new Set(
      readFileSync(join(bundleDir, "store/groups.ndjson"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { _id: string })._id),
    );
    const cutAt = body.cut.at;
    const byController = [0, 0];
    for (const [name, at] of acked) {
      if (at < cutAt) {
        expect(inBundle.has(name)).toBe(true);
        byController[Number(name.slice(1, 2)) % 2]! += 1;
      }
    }
    // Both controllers took writes before the cut, and writes were sent during the hold.
    expect(byController[0]).toBeGreaterThan(0);
    expect(byController[1]).toBeGreaterThan(0);
    const sentDuringHold = [...sent].filter(([, at]) => at > cutAt && at < cutAt + body.cut.heldMs);
    for (const [name, at] of sent) if (at > cutAt) expect(inBundle.has(name)).toBe(false);
    for (const name of inBundle) expect(sent.has(name)).toBe(true);
    console.log(
      `cluster cut: ${inBundle.size} groups in the bundle, ${acked.size} acknowledged in all, ` +
        `held ${body.cut.heldMs} ms, ${sentDuringHold.length} requests sent while held`,
    );

    // Restore through the other controller (bundles live on the disk of the controller that took
    // them: the operator copies it over): afterwards the store holds exactly the bundle's groups.
    cpSync(bundleDir, join(two.backups.backupDirectory, body.id), { recursive: true });
    const restored = await apis[1]!("POST", "/api/v1/restore", { id: body.id });
    expect(restored.status).toBe(200);
    await restored.body?.cancel();
    const ids = new Set<string>();
    for await (const page of one.store.collection<{ _id: string }>("groups").scan(500)) {
      for (const d of page) ids.add(d._id);
    }
    expect([...ids].sort()).toEqual([...inBundle].sort());
    // Users were replaced: log in again, then both controllers take writes again.
    const again = [await adminApi(one), await adminApi(two)];
    for (const [i, api] of again.entries()) {
      const res = await api("POST", "/api/v1/groups", { name: `after-restore-${i}` });
      expect(res.status).toBe(201);
      await res.body?.cancel();
    }
  },
  180_000,
);
