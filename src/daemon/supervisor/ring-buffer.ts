/** Fixed-capacity FIFO that overwrites its oldest entry; O(1) push. */
export class RingBuffer<T> {
  private readonly slots: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid ring capacity ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(value: T): void {
    if (this.count < this.capacity) {
      this.slots[(this.start + this.count) % this.capacity] = value;
      this.count++;
      return;
    }
    this.slots[this.start] = value;
    this.start = (this.start + 1) % this.capacity;
  }

  /** The newest `limit` entries (all by default), oldest first. */
  toArray(limit = this.count): T[] {
    const take = Math.max(0, Math.min(limit, this.count));
    const out: T[] = [];
    for (let i = this.count - take; i < this.count; i++)
      out.push(this.slots[(this.start + i) % this.capacity]!);
    return out;
  }
}
