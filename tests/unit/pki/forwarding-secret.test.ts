import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import {
  FORWARDING_SECRET_ID,
  resolveForwardingSecret,
} from "../../../src/controller/networks/forwarding-secret.ts";
import type { Doc } from "../../../src/store/port.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";

const store = SqliteStore.open({ file: join(tempDir(), "prexor.db") });
afterAll(() => store.close());
const CLUSTER_SECRET = "forwarding-test-cluster-secret-0123456789";

test("one secret per cluster: generated once, sealed in cluster_meta, the same for every controller", async () => {
  const [a, b] = await Promise.all([
    resolveForwardingSecret(store, CLUSTER_SECRET, { scryptLogN: 10 }),
    resolveForwardingSecret(store, CLUSTER_SECRET, { scryptLogN: 10 }),
  ]);
  expect(a).toBe(b);
  expect(Buffer.from(a, "base64url")).toHaveLength(32);
  expect(await resolveForwardingSecret(store, CLUSTER_SECRET)).toBe(a);

  const doc = await store.collection<Doc & { sealed: string }>("cluster_meta").get(FORWARDING_SECRET_ID);
  expect(doc?.sealed.startsWith("pxsealed:v1:")).toBe(true);
  expect(JSON.stringify(doc)).not.toContain(a);
  // Without the cluster secret the stored blob is useless.
  await expect(resolveForwardingSecret(store, "another-cluster-secret-0123456789abc")).rejects.toThrow();
});
