import type { Coordination, Unsubscribe } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import type { SessionRegistry } from "./session-registry.ts";

const CHANNEL = "node-handover";

interface HandoverMessage {
  from: string;
  nodeId: string;
}

/**
 * Active-active controllers: a node that went silent on its controller's stream (a partition, a
 * wedged proxy) dials another one, which cannot take `node:<id>` while the old holder still renews
 * it. The new controller asks on the `node-handover` channel; the holder ends its session if the
 * node has been silent there (a node that still talks to it keeps its session, so a stale or
 * duplicated Hello cannot steal a live node). The holder's session end releases the lease.
 */
export async function startNodeHandover(deps: {
  coord: Coordination;
  sessions: SessionRegistry;
  controllerId: string;
  log: Logger;
}): Promise<Unsubscribe> {
  const log = deps.log.child({ component: "node-handover" });
  const unsubscribe = await deps.coord.subscribe(CHANNEL, (raw) => {
    let message: HandoverMessage;
    try {
      message = JSON.parse(raw) as HandoverMessage;
    } catch {
      // not a handover request (another writer on the channel): ignore it
      return;
    }
    if (message.from === deps.controllerId || typeof message.nodeId !== "string") return;
    const yielded = deps.sessions.get(message.nodeId)?.yieldIfSilent?.();
    if (yielded) log.info({ nodeId: message.nodeId, to: message.from }, "handed a silent node over");
  });
  deps.sessions.setHandover((nodeId) => {
    const message: HandoverMessage = { from: deps.controllerId, nodeId };
    deps.coord.publish(CHANNEL, JSON.stringify(message)).catch((err: unknown) => {
      log.warn({ nodeId, err }, "could not ask for a node's handover");
    });
  });
  return async () => {
    deps.sessions.setHandover(undefined);
    await unsubscribe();
  };
}
