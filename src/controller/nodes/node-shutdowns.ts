import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { ControllerMessage } from "../../wire/index.ts";
import type { NodeDoc } from "./node-doc.ts";
import type { NodeService } from "./node-service.ts";

/** The part of the session registry a shutdown needs. */
export interface ShutdownChannel {
  send(nodeId: string, frame: NonNullable<ControllerMessage["frame"]>): string;
}

export type ShutdownDelivery = "sent" | "queued";

/**
 * ShutdownNode to a daemon. Only the controller holding the node's session can send it: elsewhere the
 * request is left on the node record (`shutdownRequest`) and the holder sends it at its next scheduler
 * tick (`deliverPending`). A request outlives a disconnect: the operator asked for the node to go down,
 * so it goes down when it is back.
 */
export class NodeShutdowns {
  constructor(
    private readonly deps: {
      nodes: NodeService;
      sessions: ShutdownChannel;
      log: Logger;
      now?: () => number;
    },
  ) {}

  /** `POST /nodes/{id}/shutdown` and finished drains; refuses a node with no session anywhere. */
  async request(nodeId: string, reason: string, requestedBy: string): Promise<ShutdownDelivery> {
    const node = await this.deps.nodes.require(nodeId);
    if (!node.connected) throw new AppError("ILLEGAL_STATE", `node "${nodeId}" is not connected`);
    if (this.send(nodeId, reason)) return "sent";
    const now = (this.deps.now ?? systemClock.now)();
    await this.deps.nodes.requestShutdown(nodeId, { requestedAt: now, reason, requestedBy });
    return "queued";
  }

  /** Sends what is owed to nodes whose session is on this controller. */
  async deliverPending(nodes: readonly NodeDoc[]): Promise<void> {
    for (const node of nodes) {
      const request = node.shutdownRequest;
      if (!request || !node.connected) continue;
      if (!this.send(node._id, request.reason)) continue;
      await this.deps.nodes.clearShutdownRequest(node._id, request.requestedAt);
    }
  }

  private send(nodeId: string, reason: string): boolean {
    const outcome = this.deps.sessions.send(nodeId, { case: "shutdownNode", value: { reason } });
    const sent = outcome === "queued";
    if (sent) this.deps.log.info({ nodeId, reason }, "ShutdownNode sent");
    return sent;
  }
}
