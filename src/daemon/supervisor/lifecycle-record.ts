import { systemClock } from "../../core/clock.ts";
import type { InstanceState } from "../../core/lifecycle/index.ts";
import { canTransition } from "../../core/lifecycle/index.ts";

export interface StateChange {
  readonly from: InstanceState;
  readonly to: InstanceState;
  readonly detail: string;
  readonly atMs: number;
}

/**
 * The daemon's view of one instance's lifecycle, moved only along the FSM's table. The daemon reports
 * what it observes (including RUNNING on a ready signal and STOPPED/CRASHED on exit); the controller
 * stays the authority for the states it owns when it applies the reports. An illegal move is refused
 * and handed to `onIllegal` instead of being emitted.
 */
export class LifecycleRecord {
  private current: InstanceState;

  constructor(
    initial: InstanceState,
    private readonly onChange: (change: StateChange) => void,
    private readonly onIllegal: (from: InstanceState, to: InstanceState, detail: string) => void,
    private readonly now: () => number = systemClock.now,
  ) {
    this.current = initial;
  }

  get state(): InstanceState {
    return this.current;
  }

  /** Moves to `to` if the table allows it; same-state moves are no-ops. Returns whether it moved. */
  moveTo(to: InstanceState, detail: string): boolean {
    const from = this.current;
    if (from === to) return false;
    if (!canTransition(from, to)) {
      this.onIllegal(from, to, detail);
      return false;
    }
    this.current = to;
    this.onChange({ from, to, detail, atMs: this.now() });
    return true;
  }
}
