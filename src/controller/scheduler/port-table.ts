/**
 * Used ports of every node as one bitset: finding the lowest free port of a group's range, or counting
 * the used ones, touches a handful of 32-bit words instead of walking a set port by port. The table only
 * covers the window spanned by the groups' ranges; a port outside it can never be allocated, so it need
 * not be tracked.
 */
export class PortTable {
  private readonly words: Uint32Array;
  private readonly stride: number;
  private readonly lo: number;
  private readonly hi: number;

  constructor(nodeCount: number, lo: number, hi: number) {
    this.lo = lo;
    this.hi = Math.max(lo - 1, hi);
    this.stride = this.hi >= lo ? ((this.hi - lo) >>> 5) + 1 : 0;
    this.words = new Uint32Array(nodeCount * this.stride);
  }

  mark(node: number, port: number): void {
    if (port < this.lo || port > this.hi) return;
    const p = port - this.lo;
    const i = node * this.stride + (p >>> 5);
    this.words[i] = (this.words[i] ?? 0) | (1 << (p & 31));
  }

  /** Lowest free port in the inclusive range, or -1. */
  firstFree(node: number, start: number, end: number): number {
    if (start < this.lo || end > this.hi || start > end) return -1;
    const base = node * this.stride;
    const last = end - this.lo;
    let p = start - this.lo;
    while (p <= last) {
      const w = p >>> 5;
      const free = ~(this.words[base + w] ?? 0) & (-1 << (p & 31));
      if (free !== 0) {
        const offset = (w << 5) + 31 - Math.clz32(free & -free);
        return offset <= last ? offset + this.lo : -1;
      }
      p = (w + 1) << 5;
    }
    return -1;
  }

  /** How many ports of the inclusive range are taken. */
  usedCount(node: number, start: number, end: number): number {
    if (start > end) return 0;
    const from = Math.max(start, this.lo) - this.lo;
    const to = Math.min(end, this.hi) - this.lo;
    if (from > to) return 0;
    const base = node * this.stride;
    const firstWord = from >>> 5;
    const lastWord = to >>> 5;
    let count = 0;
    for (let w = firstWord; w <= lastWord; w++) {
      let bits = this.words[base + w] ?? 0;
      if (w === firstWord) bits &= -1 << (from & 31);
      if (w === lastWord && (to & 31) !== 31) bits &= (1 << ((to & 31) + 1)) - 1;
      count += popcount(bits);
    }
    return count;
  }
}

function popcount(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
