import { join, resolve } from "node:path";
import { type ControllerConfig, storeDriverOf } from "../config/controller-config.ts";
import { MemoryCoordination } from "../coord/memory/memory-coordination.ts";
import type { Coordination } from "../coord/port.ts";
import { ValkeyCoordination } from "../coord/valkey/valkey-coordination.ts";
import { MongoStore } from "../store/mongo/mongo-store.ts";
import type { DurableStore } from "../store/port.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";

export function embeddedStoreFile(root: string, config: ControllerConfig): string {
  return join(resolve(root, config.runtime.dataDir), "prexor.db");
}

/** Durable store for the profile: the embedded file in development, MongoDB in production. */
export async function openStore(root: string, config: ControllerConfig): Promise<DurableStore> {
  if (storeDriverOf(config) === "mongodb") {
    return MongoStore.connect({
      uri: config.database.uri,
      database: config.database.database,
      connectTimeoutMs: config.database.connectTimeoutMs,
      operationTimeoutMs: config.database.operationTimeoutMs,
    });
  }
  return SqliteStore.open({ file: embeddedStoreFile(root, config) });
}

/** Valkey whenever a redis block is configured (required in production), else process memory. */
export async function openCoordination(config: ControllerConfig): Promise<Coordination> {
  if (config.redis) {
    return ValkeyCoordination.connect({
      uri: config.redis.uri,
      connectTimeoutMs: config.redis.connectTimeoutMs,
    });
  }
  return new MemoryCoordination();
}
