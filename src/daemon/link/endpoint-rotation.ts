/**
 * Which controller the daemon dials next. Every break moves on to the next endpoint (the one that
 * just failed is the least likely to answer); an endpoint that went silent — no HelloAck in time,
 * or a session that stopped hearing frames: a paused or wedged controller, which still completes
 * TCP handshakes — is passed over for `quarantineMs` while any other endpoint is not, so a
 * failover does not spend a Hello timeout on it at every turn of the list.
 */
export class EndpointRotation {
  private readonly list: string[];
  private index = 0;
  private readonly silentAt = new Map<string, number>();

  constructor(
    configured: readonly string[],
    private readonly quarantineMs: number,
    private readonly now: () => number,
  ) {
    this.list = [...new Set(configured.filter((e) => e !== ""))];
    if (this.list.length === 0) throw new Error("no controller endpoint configured");
  }

  get endpoints(): readonly string[] {
    return this.list;
  }

  current(): string {
    return this.list[this.index % this.list.length]!;
  }

  /** Appends addresses learned from a controller; returns the ones that were new. */
  learn(addresses: readonly string[]): string[] {
    const fresh = [...new Set(addresses)].filter((a) => a !== "" && !this.list.includes(a));
    this.list.push(...fresh);
    return fresh;
  }

  /** A session on the current endpoint ended; `silent` when the controller stopped answering. */
  ended(silent: boolean, established: boolean): void {
    const endpoint = this.current();
    if (silent) this.silentAt.set(endpoint, this.now());
    else if (established) this.silentAt.delete(endpoint);
    const n = this.list.length;
    for (let step = 1; step <= n; step++) {
      if (!this.quarantined(this.list[(this.index + step) % n]!)) {
        this.index = (this.index + step) % n;
        return;
      }
    }
    this.index = (this.index + 1) % n; // all silent: keep turning, one of them may be back
  }

  /** A session on the current endpoint was established: it is healthy again. */
  connected(): void {
    this.silentAt.delete(this.current());
  }

  private quarantined(endpoint: string): boolean {
    const at = this.silentAt.get(endpoint);
    return at !== undefined && this.now() - at < this.quarantineMs;
  }
}
