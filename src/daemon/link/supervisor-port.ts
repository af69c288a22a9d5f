import type { InstanceState } from "../../core/lifecycle/index.ts";
import type {
  InstanceFileContent,
  InstanceFileTree,
  ProxyRoutes,
  ProxyRoutesAck,
  ReadInstanceFile,
  SendCommand,
  StartInstance,
  StartInstanceAck,
  StopInstance,
  StopInstanceAck,
  WalkInstanceFiles,
} from "../../wire/index.ts";

/** One supervised process as the link reports it (Hello, Heartbeat, instance_update). */
export interface LinkInstance {
  readonly instanceId: string;
  readonly group: string;
  readonly planHash: string;
  readonly state: InstanceState;
  readonly port: number;
  readonly uptimeMs: number;
  readonly playerCount?: number;
  readonly maxPlayers?: number;
  readonly playerSample?: readonly string[];
  readonly playerSampleIds?: readonly string[];
  readonly detail?: string;
  /** a refused start: the ack told the controller, so Hello leaves it out */
  readonly startRefused?: boolean;
}

/**
 * What the link reads from the process supervisor: the actual state of every process, asked at
 * every Hello and Heartbeat. The supervisor in ../supervisor satisfies it structurally.
 */
export interface LinkSupervisor {
  snapshot(): readonly LinkInstance[];
  usedPorts(): readonly number[];
}

/**
 * Controller commands, answered in wire terms. Optional: without it the link refuses starts and
 * stops (TRANSIENT, so the controller retries once a supervisor is attached).
 */
export interface LinkCommands {
  start(command: StartInstance): Promise<StartInstanceAck>;
  stop(command: StopInstance): Promise<StopInstanceAck>;
  sendCommand(command: SendCommand): void;
  /** Start/stop streaming an instance's console lines (controller ConsoleSubscription frames). */
  subscribeConsole?(instanceId: string, backlogLines: number): void;
  unsubscribeConsole?(instanceId: string): void;
  /** Write a proxy instance's backend list into its config and reload it (controller ProxyRoutes). */
  applyProxyRoutes?(routes: ProxyRoutes): Promise<ProxyRoutesAck>;
  /** List / read an instance directory's files (deploy-back, diagnostics), answered by request id. */
  walkFiles?(request: WalkInstanceFiles): Promise<InstanceFileTree>;
  readFile?(request: ReadInstanceFile): Promise<InstanceFileContent>;
}

/** A daemon with nothing to supervise yet (and the stand-in until a supervisor is wired in). */
export const idleSupervisor: LinkSupervisor = {
  snapshot: () => [],
  usedPorts: () => [],
};
