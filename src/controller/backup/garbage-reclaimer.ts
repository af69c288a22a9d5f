/**
 * A bulk read or load turns every document into short-lived garbage (the parsed line, the driver's
 * encoding of it); left to the collector's own pace, that garbage, not the batch, sets the peak
 * memory. A full collection every few batches keeps a backup's or restore's growth at a few batches' worth.
 */
export class GarbageReclaimer {
  private batches = 0;
  constructor(private readonly every = 12) {}
  batch(): void {
    if (++this.batches % this.every === 0) Bun.gc(true);
  }
}
