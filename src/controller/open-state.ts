import { join, resolve } from "node:path";
import { type ControllerConfig, storeDriverOf } from "../config/controller-config.ts";
import { MemoryCoordination } from "../coord/memory/memory-coordination.ts";
import type { Coordination } from "../coord/port.ts";
import type { DurableStore } from "../store/port.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";

export function embeddedStoreFile(root: string, config: ControllerConfig): string {
  return join(resolve(root, config.runtime.dataDir), "prexor.db");
}

/**
 * Durable store for the profile: the embedded file in development, MongoDB in production. The
 * MongoDB and Valkey adapters (and their drivers, the heaviest modules in the binary) are loaded only
 * when configured, so `prexor up` never pays for them.
 */
export async function openStore(root: string, config: ControllerConfig): Promise<DurableStore> {
  if (storeDriverOf(config) === "mongodb") {
    const { MongoStore } = await import("../store/mongo/mongo-store.ts");
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
    const { ValkeyCoordination } = await import("../coord/valkey/valkey-coordination.ts");
    return ValkeyCoordination.connect({
      uri: config.redis.uri,
      connectTimeoutMs: config.redis.connectTimeoutMs,
    });
  }
  return new MemoryCoordination();
}
