import type { TransferView } from "../../api/players.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";

export const WORKFLOW_TRANSFERS = "workflow_transfers" satisfies CollectionName;

/**
 * `workflow_transfers`, keyed by player UUID: a move the player's proxy has yet to carry out.
 * Durable, unlike the player list, so a controller failover loses no requested transfer; one per
 * player, the latest request wins.
 */
export interface TransferIntent extends Doc {
  playerUuid: string;
  targetInstanceId: string;
  proxyInstanceId: string;
  /** epoch ms */
  createdAt: number;
}

export function toTransferView(intent: TransferIntent): TransferView {
  return {
    playerUuid: intent.playerUuid,
    targetInstanceId: intent.targetInstanceId,
    proxyInstanceId: intent.proxyInstanceId,
    createdAt: new Date(intent.createdAt).toISOString(),
  };
}

export class TransferIntents {
  constructor(private readonly store: DurableStore) {}

  private get col() {
    return this.store.collection<TransferIntent>(WORKFLOW_TRANSFERS);
  }

  put(intent: Omit<TransferIntent, "_id">): Promise<TransferIntent> {
    return this.col.put({ _id: intent.playerUuid, ...intent });
  }

  get(playerUuid: string): Promise<TransferIntent | null> {
    return this.col.get(playerUuid);
  }

  /** What one proxy still has to do, oldest first. */
  forProxy(proxyInstanceId: string): Promise<TransferIntent[]> {
    return this.col.find({ proxyInstanceId }, { sort: [["createdAt", 1]], limit: 10_000 });
  }

  delete(playerUuid: string): Promise<boolean> {
    return this.col.delete(playerUuid);
  }

  count(): Promise<number> {
    return this.col.count();
  }

  /** Intents that can no longer happen: the instance was their proxy or their target. */
  dropFor(instanceId: string): Promise<number> {
    return this.col.deleteMany({ $or: [{ proxyInstanceId: instanceId }, { targetInstanceId: instanceId }] });
  }
}
