import type { MethodDefinition } from "nice-grpc";
import { instanceStateFromNumber } from "../../core/lifecycle/index.ts";
import {
  ControllerMessage,
  DaemonMessage,
  type HostInfo,
  type InstanceReport,
  type NodeCapacity,
} from "../../wire/index.ts";
import type { NodeCapacityDoc, NodeInstanceReport } from "../nodes/node-doc.ts";
import { isPlayerUuid } from "../players/player-info.ts";

/** A decoded frame, or the reason it could not be decoded. */
export type IncomingFrame = DaemonMessage & { undecodable?: string };

/**
 * DaemonService as the controller serves it: identical on the wire, but a frame that does not decode
 * reaches the session as `{ undecodable }` instead of grpc-js answering a bare INTERNAL with no
 * trace of who sent it. The session logs the reason with the node id and ends the stream.
 */
export const ServedDaemonServiceDefinition: {
  readonly connect: MethodDefinition<
    DaemonMessage,
    IncomingFrame,
    ControllerMessage,
    ControllerMessage,
    true,
    true
  >;
} = {
  connect: {
    path: "/prexor.v1.DaemonService/Connect",
    requestStream: true,
    responseStream: true,
    requestSerialize: (value: DaemonMessage): Uint8Array => DaemonMessage.encode(value).finish(),
    requestDeserialize: (bytes: Uint8Array): IncomingFrame => {
      try {
        return DaemonMessage.decode(bytes);
      } catch (err) {
        return { frame: undefined, undecodable: (err as Error).message || "malformed protobuf" };
      }
    },
    responseSerialize: (value: ControllerMessage): Uint8Array => ControllerMessage.encode(value).finish(),
    responseDeserialize: (bytes: Uint8Array): ControllerMessage => ControllerMessage.decode(bytes),
    options: {},
  },
};

export function capacityFromWire(capacity: NodeCapacity | undefined): NodeCapacityDoc {
  return {
    cpuUsage: clamp01(capacity?.cpuUsage ?? 0),
    availableCpus: capacity?.availableCpus ?? 0,
    totalMemoryMb: capacity?.totalMemoryMb ?? 0,
    usedMemoryMb: capacity?.usedMemoryMb ?? 0,
    totalDiskMb: capacity?.totalDiskMb ?? 0,
    freeDiskMb: capacity?.freeDiskMb ?? 0,
  };
}

/** A list ping sample is for display; clients show about a dozen names. */
const MAX_PLAYER_SAMPLE = 12;

export function instanceFromWire(report: InstanceReport): NodeInstanceReport {
  return {
    instanceId: report.instanceId,
    group: report.group,
    state: instanceStateFromNumber(report.state) ?? "UNKNOWN",
    port: report.port,
    playerCount: report.playerCount,
    maxPlayers: report.maxPlayers,
    // Bounded here too: a daemon is trusted with its node, not with the controller's memory.
    playerSample: report.playerSample.slice(0, MAX_PLAYER_SAMPLE).map((name) => name.slice(0, 64)),
    playerSampleIds: report.playerSample
      .slice(0, MAX_PLAYER_SAMPLE)
      .map((_, i) =>
        isPlayerUuid(report.playerSampleIds[i] ?? "") ? report.playerSampleIds[i]!.toLowerCase() : "",
      ),
    uptimeMs: report.uptimeMs,
    planHash: report.planHash,
  };
}

export function hostFromWire(host: HostInfo | undefined): Record<string, string | number> {
  if (!host) return {};
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(host)) {
    if ((typeof value === "string" && value !== "") || (typeof value === "number" && value !== 0)) {
      out[key] = value;
    }
  }
  return out;
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
