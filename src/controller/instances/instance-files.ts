import type { Coordination, Unsubscribe } from "../../coord/port.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import {
  FileAccessStatus,
  InstanceFileContent,
  InstanceFileTree,
  type ReadInstanceFile,
  type WalkInstanceFiles,
} from "../../wire/index.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";

const REPLY_CHANNEL = "file-reply";
const DEFAULT_TIMEOUT_MS = 10_000;

interface RelayedReply {
  requestId: string;
  kind: "tree" | "content";
  /** the protobuf message, base64 */
  message: string;
}

type Pending = {
  resolve(reply: InstanceFileTree | InstanceFileContent): void;
  reject(err: Error): void;
  timer: unknown;
};

/**
 * Instance file access over the node's stream: a WalkInstanceFiles / ReadInstanceFile goes to the
 * node (relayed when its session lives on another controller), and the daemon's answer, correlated by
 * request id, comes back here, or to the controller holding the session, which hands it on over the
 * `file-reply` channel. A request nobody answers fails after its deadline.
 */
export class InstanceFiles {
  private readonly pending = new Map<string, Pending>();
  private unsubscribe: Unsubscribe | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly deps: {
      sessions: SessionRegistry;
      coord: Coordination;
      clock?: Clock;
      timeoutMs?: number;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.deps.sessions.onFrame((_node, frame) => {
      if (frame.case === "fileTree") this.answer(frame.value.requestId, "tree", frame.value);
      else if (frame.case === "fileContent") this.answer(frame.value.requestId, "content", frame.value);
      return undefined;
    });
    this.unsubscribe = await this.deps.coord.subscribe(REPLY_CHANNEL, (raw) => {
      let reply: RelayedReply;
      try {
        reply = JSON.parse(raw) as RelayedReply;
      } catch {
        return; // not one of ours
      }
      const bytes = Buffer.from(reply.message, "base64");
      const decoded =
        reply.kind === "tree" ? InstanceFileTree.decode(bytes) : InstanceFileContent.decode(bytes);
      this.settle(reply.requestId, decoded);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const [id, p] of this.pending) {
      this.clock.clearTimeout(p.timer);
      p.reject(new AppError("UNAVAILABLE", "the controller is shutting down"));
      this.pending.delete(id);
    }
  }

  async walk(node: string, request: Omit<WalkInstanceFiles, "requestId">): Promise<InstanceFileTree> {
    const requestId = crypto.randomUUID();
    return (await this.ask(node, requestId, {
      case: "walkFiles",
      value: { ...request, requestId },
    })) as InstanceFileTree;
  }

  async read(node: string, request: Omit<ReadInstanceFile, "requestId">): Promise<InstanceFileContent> {
    const requestId = crypto.randomUUID();
    return (await this.ask(node, requestId, {
      case: "readFile",
      value: { ...request, requestId },
    })) as InstanceFileContent;
  }

  private ask(
    node: string,
    requestId: string,
    frame: { case: "walkFiles"; value: WalkInstanceFiles } | { case: "readFile"; value: ReadInstanceFile },
  ): Promise<InstanceFileTree | InstanceFileContent> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(requestId);
        reject(new AppError("UNAVAILABLE", `node ${node} did not answer the file request in time`));
      }, this.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer });
      const outcome = this.deps.sessions.deliver(node, frame);
      if (outcome === "no-session" || outcome === "closed" || outcome === "overflow") {
        this.clock.clearTimeout(timer);
        this.pending.delete(requestId);
        reject(new AppError("NODE_NOT_CONNECTED", `node ${node} has no live stream`));
      }
    });
  }

  /** A daemon's answer on a session of this controller: ours, or handed to whoever asked. */
  private answer(
    requestId: string,
    kind: RelayedReply["kind"],
    message: InstanceFileTree | InstanceFileContent,
  ): void {
    if (this.settle(requestId, message)) return;
    const bytes =
      kind === "tree"
        ? InstanceFileTree.encode(message as InstanceFileTree).finish()
        : InstanceFileContent.encode(message as InstanceFileContent).finish();
    const reply: RelayedReply = { requestId, kind, message: Buffer.from(bytes).toString("base64") };
    // Best effort: the asking controller's deadline covers a lost reply.
    this.deps.coord.publish(REPLY_CHANNEL, JSON.stringify(reply)).catch(() => undefined);
  }

  private settle(requestId: string, message: InstanceFileTree | InstanceFileContent): boolean {
    const p = this.pending.get(requestId);
    if (p === undefined) return false;
    this.pending.delete(requestId);
    this.clock.clearTimeout(p.timer);
    p.resolve(message);
    return true;
  }
}

export function fileStatusError(status: FileAccessStatus, what: string): AppError | undefined {
  switch (status) {
    case FileAccessStatus.OK:
      return undefined;
    case FileAccessStatus.INSTANCE_NOT_FOUND:
      return new AppError("CONFLICT", `${what}: the node does not run this instance`);
    case FileAccessStatus.FILE_NOT_FOUND:
      return new AppError("NOT_FOUND", `${what}: no such file`);
    case FileAccessStatus.PATH_OUTSIDE_INSTANCE:
      return new AppError("BAD_REQUEST", `${what}: the path leaves the instance directory`);
    default:
      return new AppError("CONFLICT", `${what}: ${FileAccessStatus[status] ?? status}`);
  }
}
