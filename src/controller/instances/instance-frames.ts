import type { Logger } from "../../log/logger.ts";
import { FrameErrorCode } from "../../wire/index.ts";
import type { CrashService } from "../crashes/crash-service.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { ArtifactServer } from "./artifact-server.ts";
import type { ConsoleBuffer } from "./console-buffer.ts";
import type { StoreInstanceLifecycle } from "./store-instance-lifecycle.ts";

/** Console lines the daemon replays when this controller has none of an instance's history. */
const CONSOLE_BACKLOG = 200;

/**
 * Routes the daemon frames that concern instances (the link itself handles Hello, heartbeats and
 * state reports) to their owners. Acks and crash reports run in arrival order per node, and the
 * stream waits for them, so an ack is applied before the state report or crash report that followed
 * it.
 */
export function routeInstanceFrames(deps: {
  sessions: SessionRegistry;
  lifecycle: StoreInstanceLifecycle;
  crashes: CrashService;
  console: ConsoleBuffer;
  artifacts: ArtifactServer;
  log: Logger;
}): () => void {
  const chains = new Map<string, Promise<void>>();
  const inOrder = (nodeId: string, work: () => Promise<unknown>): Promise<void> => {
    const next = (chains.get(nodeId) ?? Promise.resolve()).then(work).then(
      () => undefined,
      (err: unknown) => deps.log.warn({ nodeId, err }, "instance frame failed"),
    );
    chains.set(nodeId, next);
    // The map would otherwise hold every node's last promise forever.
    void next.then(() => {
      if (chains.get(nodeId) === next) chains.delete(nodeId);
    });
    return next;
  };
  // A new session (daemon restart, reconnect, failover to this controller) streams no console until
  // asked: subscribe to every live instance again, with backlog only where this controller has none.
  const offOpen = deps.sessions.onOpen((nodeId, instanceIds) => {
    const known = new Set(deps.console.instanceIds());
    for (const instanceId of instanceIds) {
      deps.sessions.send(nodeId, {
        case: "consoleSubscribe",
        value: { instanceId, backlogLines: known.has(instanceId) ? 0 : CONSOLE_BACKLOG },
      });
    }
  });
  // Each write a frame drives carries the receiving session's fence (node:<id>, its lease epoch).
  const offFrame = deps.sessions.onFrame((nodeId, frame, fence) => {
    switch (frame.case) {
      case "startAck":
        return inOrder(nodeId, () => deps.lifecycle.onStartAck(nodeId, frame.value, fence));
      case "crashReport":
        return inOrder(nodeId, () => deps.crashes.report(nodeId, frame.value, fence));
      case "consoleLine":
        deps.console.push(frame.value.instanceId, {
          line: frame.value.line,
          timestampMs: frame.value.timestampMs,
        });
        return;
      case "fetchArtifact":
        deps.artifacts.handle(nodeId, frame.value);
        return;
      case "error":
        // FrameErrorCode.STALE_FENCE: the daemon saw a newer fence for this instance's group.
        if (frame.value.code === FrameErrorCode.STALE_FENCE && frame.value.instanceId !== "") {
          const instanceId = frame.value.instanceId;
          return inOrder(nodeId, () => deps.lifecycle.onStaleFence(nodeId, instanceId, fence));
        }
        return;
      case "stopAck":
        if (!frame.value.accepted) {
          deps.log.warn(
            { nodeId, instanceId: frame.value.instanceId, error: frame.value.errorMessage },
            "daemon refused a stop",
          );
        }
        return;
    }
  });
  return () => {
    offOpen();
    offFrame();
  };
}
