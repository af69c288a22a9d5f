import { join } from "node:path";
import { MemoryCoordination } from "../../src/coord/memory/memory-coordination.ts";
import type { Coordination } from "../../src/coord/port.ts";
import { ValkeyCoordination } from "../../src/coord/valkey/valkey-coordination.ts";
import { MongoStore } from "../../src/store/mongo/mongo-store.ts";
import type { DurableStore } from "../../src/store/port.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { mongoServer, redisServer } from "./servers.ts";
import { tempDir } from "./temp-dirs.ts";
import { randomId } from "./wait.ts";

/** One entry per adapter; each `open()` gives a fresh, isolated instance. */
export interface AdapterCase<T> {
  name: string;
  skip?: string;
  open: () => Promise<T>;
}

export { tempDir };

export async function storeAdapters(): Promise<AdapterCase<DurableStore>[]> {
  const mongo = await mongoServer();
  return [
    {
      name: "embedded (bun:sqlite)",
      open: async () => SqliteStore.open({ file: join(tempDir(), "prexor.db") }),
    },
    {
      name: "mongodb",
      skip: mongo.skip,
      open: () => MongoStore.connect({ uri: mongo.server!.uri, database: randomId("db_") }),
    },
  ];
}

export async function coordAdapters(): Promise<AdapterCase<Coordination>[]> {
  const redis = await redisServer();
  return [
    { name: "memory", open: async () => new MemoryCoordination() },
    {
      name: "valkey (ioredis)",
      skip: redis.skip,
      open: () =>
        ValkeyCoordination.connect({ uri: redis.server!.uri, keyPrefix: `prexor:test:${randomId()}:` }),
    },
  ];
}
