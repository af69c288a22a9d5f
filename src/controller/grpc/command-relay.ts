import type { Coordination, Unsubscribe } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import { ControllerMessage } from "../../wire/index.ts";
import type { SessionRegistry } from "./session-registry.ts";

const CHANNEL = "command";

interface RelayedCommand {
  from: string;
  nodeId: string;
  /** the ControllerMessage, protobuf, base64 */
  frame: string;
}

/**
 * Active-active controllers: a node's stream lives on exactly one controller, but any controller
 * may decide to start, stop or command an instance there (it holds the group's lease, or it took
 * the REST call). A frame for a node with no session here goes out on the `command` channel and
 * the controller that holds the session sends it. Frames carry their fence, so a relayed frame is
 * checked by the daemon exactly like a direct one; a frame nobody holds a session for is dropped,
 * and the start/stop reconciliation on the node's next Hello covers it.
 */
export async function startCommandRelay(deps: {
  coord: Coordination;
  sessions: SessionRegistry;
  controllerId: string;
  log: Logger;
}): Promise<Unsubscribe> {
  const log = deps.log.child({ component: "command-relay" });
  const unsubscribe = await deps.coord.subscribe(CHANNEL, (message) => {
    let command: RelayedCommand;
    try {
      command = JSON.parse(message) as RelayedCommand;
    } catch {
      // not a relayed command (another writer on the channel): ignore it
      return;
    }
    if (command.from === deps.controllerId || !deps.sessions.get(command.nodeId)) return;
    try {
      const decoded = ControllerMessage.decode(Buffer.from(command.frame, "base64"));
      if (!decoded.frame) return;
      const outcome = deps.sessions.send(command.nodeId, decoded.frame);
      log.debug(
        { nodeId: command.nodeId, from: command.from, frame: decoded.frame.case, outcome },
        "relayed frame sent",
      );
    } catch (err) {
      log.warn({ nodeId: command.nodeId, from: command.from, err }, "bad relayed frame");
    }
  });
  deps.sessions.setRelay((nodeId, frame) => {
    const bytes = ControllerMessage.encode(ControllerMessage.create({ frame })).finish();
    const command: RelayedCommand = {
      from: deps.controllerId,
      nodeId,
      frame: Buffer.from(bytes).toString("base64"),
    };
    deps.coord.publish(CHANNEL, JSON.stringify(command)).catch((err: unknown) => {
      log.warn({ nodeId, err }, "could not relay a frame to the node's controller");
    });
  });
  return async () => {
    deps.sessions.setRelay(undefined);
    await unsubscribe();
  };
}
