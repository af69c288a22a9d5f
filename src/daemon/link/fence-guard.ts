import { type ControllerMessage, FrameErrorCode, type LeaseFence } from "../../wire/index.ts";

export type FenceVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: FrameErrorCode; readonly message: string };

const OK: FenceVerdict = { ok: true };

/**
 * The daemon's half of fencing. Two checks on every controller frame:
 *
 * - epoch: the session's epoch (the fencing token of the controller's `node:<id>` lease) must not go
 *   backwards within a session. HelloAck sets the baseline; 0 means unfenced and always passes.
 * - lease fence: StartInstance/StopInstance carry the token of the lease (for example
 *   `group:lobby`) under which the command was decided. The highest token per scope is remembered
 *   across sessions and a lower one is refused, so a controller that lost a group's lease while
 *   paused cannot act on its stale decision, even when a current controller relays it.
 *
 * Refused frames are dropped and answered with STALE_EPOCH / STALE_FENCE.
 */
export class FenceGuard {
  private epochFloor = 0;
  private lastSessionEpoch = 0;
  private readonly scopes = new Map<string, number>();

  /** Highest epoch accepted so far (sent in the next Hello). */
  get highestEpoch(): number {
    return this.epochFloor;
  }

  /**
   * A new session's baseline. An epoch below the previous session's can only mean the
   * coordination store lost its counters (a Valkey wipe, or a development controller restart): then
   * every remembered floor is meaningless and would refuse every command, so they are cleared.
   * Returns whether that happened.
   */
  onHelloAck(epoch: number): boolean {
    const reset = epoch !== 0 && epoch < this.lastSessionEpoch;
    if (reset) this.scopes.clear();
    if (epoch !== 0) this.lastSessionEpoch = epoch;
    this.epochFloor = epoch;
    return reset;
  }

  check(message: ControllerMessage): FenceVerdict {
    const epoch = message.epoch;
    if (epoch !== 0 && epoch < this.epochFloor) {
      return {
        ok: false,
        code: FrameErrorCode.STALE_EPOCH,
        message: `epoch ${epoch} is below ${this.epochFloor}, the highest accepted`,
      };
    }
    const fence = fenceOf(message);
    if (fence && fence.scope !== "") {
      const highest = this.scopes.get(fence.scope) ?? 0;
      if (fence.token < highest) {
        return {
          ok: false,
          code: FrameErrorCode.STALE_FENCE,
          message: `fence ${fence.scope}#${fence.token} is below #${highest}, the highest seen`,
        };
      }
      this.scopes.set(fence.scope, fence.token);
    }
    if (epoch > this.epochFloor) this.epochFloor = epoch;
    return OK;
  }
}

function fenceOf(message: ControllerMessage): LeaseFence | undefined {
  const frame = message.frame;
  if (frame?.case === "startInstance" || frame?.case === "stopInstance") return frame.value.fence;
  return undefined;
}
