export interface FloodVerdict {
  readonly admitted: boolean;
  /** On an admitted line: how many lines were shed since the previous admitted one. */
  readonly droppedBefore: number;
}

/**
 * Per-second cap on console lines streamed off the node (`maxConsoleOutputLinesPerSecond`). Lines
 * over the cap in a one-second window are shed, and the next admitted line carries the count, so a
 * viewer sees that output was lost rather than a silently shorter console.
 */
export class FloodGate {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private dropped = 0;

  constructor(private readonly maxPerSecond: number) {
    if (!Number.isInteger(maxPerSecond) || maxPerSecond < 1)
      throw new Error(`invalid line cap ${maxPerSecond}`);
  }

  admit(nowMs: number): FloodVerdict {
    if (nowMs - this.windowStartMs >= 1000) {
      this.windowStartMs = nowMs;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.maxPerSecond) {
      this.dropped++;
      return { admitted: false, droppedBefore: 0 };
    }
    this.inWindow++;
    const droppedBefore = this.dropped;
    this.dropped = 0;
    return { admitted: true, droppedBefore };
  }
}
