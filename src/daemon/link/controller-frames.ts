import type { Logger } from "../../log/logger.ts";
import {
  type ControllerMessage,
  type DaemonMessage,
  FailureDisposition,
  FrameErrorCode,
  ProxyRoutesAck,
  StartInstanceAck,
  StopInstanceAck,
} from "../../wire/index.ts";
import type { ArtifactFetcher } from "./artifact-fetcher.ts";
import type { LinkCommands } from "./supervisor-port.ts";

type DaemonFrame = NonNullable<DaemonMessage["frame"]>;

export interface FrameContext {
  /** queues a frame on the session's stream */
  reply(frame: DaemonFrame): void;
  /** absent on a daemon without a supervisor: commands are answered as unsupported */
  commands: LinkCommands | undefined;
  artifacts: ArtifactFetcher | undefined;
  log: Logger;
  runningInstances(): number;
  onShutdown?: (reason: string) => void;
  /** the controller list changed (a controller added or moved): learnt for failover */
  onControllers?: (addrs: readonly string[]) => void;
}

/**
 * What the daemon does with one controller frame that passed the fence check. Slow commands
 * (starts, stops, file I/O) are not awaited: pings and other frames must keep flowing meanwhile;
 * each answers on the stream when it is done.
 */
export function applyControllerFrame(
  frame: NonNullable<ControllerMessage["frame"]>,
  ctx: FrameContext,
): void {
  const { reply, commands } = ctx;
  switch (frame.case) {
    case "ping":
      reply({ case: "pong", value: { sequence: frame.value.sequence } });
      if (frame.value.controllerGrpcAddrs.length > 0) ctx.onControllers?.(frame.value.controllerGrpcAddrs);
      return;
    case "startInstance": {
      const command = frame.value;
      if (!commands) {
        reply({
          case: "startAck",
          value: unsupportedStart(command.instanceId, command.plan?.planHash ?? ""),
        });
        return;
      }
      // Not awaited: preparing a start can take long, and pings must keep flowing meanwhile.
      commands.start(command).then(
        (ack) => reply({ case: "startAck", value: ack }),
        (err: unknown) =>
          reply({
            case: "startAck",
            value: StartInstanceAck.create({
              instanceId: command.instanceId,
              planHash: command.plan?.planHash ?? "",
              accepted: false,
              errorCode: "INTERNAL",
              errorMessage: (err as Error).message,
              disposition: FailureDisposition.TRANSIENT,
            }),
          }),
      );
      return;
    }
    case "stopInstance": {
      const command = frame.value;
      if (!commands) {
        reply({
          case: "stopAck",
          value: StopInstanceAck.create({
            instanceId: command.instanceId,
            errorMessage: "no supervisor on this daemon",
          }),
        });
        return;
      }
      commands.stop(command).then(
        (ack) => reply({ case: "stopAck", value: ack }),
        (err: unknown) =>
          reply({
            case: "stopAck",
            value: StopInstanceAck.create({
              instanceId: command.instanceId,
              errorMessage: (err as Error).message,
            }),
          }),
      );
      return;
    }
    case "sendCommand":
      commands?.sendCommand(frame.value);
      return;
    case "shutdownNode":
      ctx.log.warn({ reason: frame.value.reason }, "controller asked this node to shut down");
      reply({
        case: "shutdownAck",
        value: { runningInstances: ctx.runningInstances(), estimatedDrainSeconds: 0 },
      });
      ctx.onShutdown?.(frame.value.reason);
      return;
    case "error":
      if (ctx.artifacts?.onError(frame.value)) return;
      ctx.log.warn(
        { code: FrameErrorCode[frame.value.code], message: frame.value.message },
        "controller reported an error",
      );
      return;
    case "artifactHeader":
      ctx.artifacts?.onHeader(frame.value);
      return;
    case "artifactChunk":
      ctx.artifacts?.onChunk(frame.value);
      return;
    case "consoleSubscribe":
      commands?.subscribeConsole?.(frame.value.instanceId, frame.value.backlogLines);
      return;
    case "consoleUnsubscribe":
      commands?.unsubscribeConsole?.(frame.value.instanceId);
      return;
    case "proxyRoutes": {
      const routes = frame.value;
      const refuse = (error: string) =>
        reply({
          case: "proxyRoutesAck",
          value: ProxyRoutesAck.create({ instanceId: routes.instanceId, revision: routes.revision, error }),
        });
      if (!commands?.applyProxyRoutes) {
        refuse("no supervisor on this daemon");
        return;
      }
      // Not awaited: file I/O must not hold up pings and other frames.
      commands.applyProxyRoutes(routes).then(
        (ack) => reply({ case: "proxyRoutesAck", value: ack }),
        (err: unknown) => refuse((err as Error).message),
      );
      return;
    }
    case "walkFiles": {
      const request = frame.value;
      // Not awaited: a large directory must not hold up pings and other frames.
      commands?.walkFiles?.(request).then(
        (tree) => reply({ case: "fileTree", value: tree }),
        (err: unknown) => ctx.log.warn({ err }, "instance file walk failed"),
      );
      return;
    }
    case "readFile": {
      commands?.readFile?.(frame.value).then(
        (content) => reply({ case: "fileContent", value: content }),
        (err: unknown) => ctx.log.warn({ err }, "instance file read failed"),
      );
      return;
    }
    default:
      ctx.log.debug({ frame: frame.case }, "controller frame not handled by this daemon yet");
  }
}

function unsupportedStart(instanceId: string, planHash: string): StartInstanceAck {
  return StartInstanceAck.create({
    instanceId,
    planHash,
    accepted: false,
    errorCode: "SUPERVISOR_UNAVAILABLE",
    errorMessage: "this daemon has no process supervisor attached",
    disposition: FailureDisposition.TRANSIENT,
    retryAfterSeconds: 30,
  });
}
