/** One RUNNING instance the poller should ask for its player count. */
export interface PollTarget {
  readonly instanceId: string;
  readonly port: number;
}

/** What a list ping says about players: the count, the slot limit and the names the server shows. */
export interface PlayerStatus {
  readonly online: number;
  /** `players.max`; absent when the server did not say. */
  readonly max?: number;
  /** `players.sample`, at most `MAX_SAMPLE_NAMES` entries; `id` is "" when the server sent none. */
  readonly sample?: readonly SamplePlayer[];
}

export interface SamplePlayer {
  readonly name: string;
  readonly id: string;
}

/** A sample is for display: a dozen names is what clients show, and it bounds every report. */
export const MAX_SAMPLE_NAMES = 12;
const MAX_NAME_LENGTH = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ping answer's players block as a PlayerStatus, or undefined when it carries no valid count. */
export function playerStatusOf(players: unknown): PlayerStatus | undefined {
  if (typeof players !== "object" || players === null) return undefined;
  const { online, max, sample } = players as { online?: unknown; max?: unknown; sample?: unknown };
  if (typeof online !== "number" || !Number.isInteger(online) || online < 0) return undefined;
  const names: SamplePlayer[] = [];
  for (const entry of Array.isArray(sample) ? sample : []) {
    if (names.length >= MAX_SAMPLE_NAMES) break;
    const { name, id } = (entry ?? {}) as { name?: unknown; id?: unknown };
    if (typeof name !== "string" || name === "") continue;
    names.push({
      name: name.slice(0, MAX_NAME_LENGTH),
      id: typeof id === "string" && UUID.test(id) ? id.toLowerCase() : "",
    });
  }
  return {
    online,
    ...(typeof max === "number" && Number.isInteger(max) && max >= 0 ? { max } : {}),
    ...(names.length > 0 ? { sample: names } : {}),
  };
}

function sameStatus(a: PlayerStatus | undefined, b: PlayerStatus): boolean {
  if (!a || a.online !== b.online || a.max !== b.max) return false;
  const left = a.sample ?? [];
  const right = b.sample ?? [];
  return (
    left.length === right.length &&
    left.every((entry, i) => entry.name === right[i]!.name && entry.id === right[i]!.id)
  );
}

export interface PlayerCountPollerOptions {
  /** Base period between rounds (daemon.yml `instances.playerCountPoll.intervalMs`). */
  readonly intervalMs: number;
  /** At most this many pings in flight at once, so a node with many servers does not burst. */
  readonly concurrency: number;
  /** The instances to ask this round (read fresh every round: starts, stops and re-adoptions show up). */
  readonly targets: () => readonly PollTarget[];
  /** The players block of a Server List Ping; throws (or times out) when the server does not answer. */
  readonly ping: (port: number) => Promise<PlayerStatus>;
  /** Called only when an instance's count, slot limit or sample differs from the last one seen. */
  readonly onChange: (instanceId: string, status: PlayerStatus) => void;
  /** Uniform in [0, 1); tests pin it. */
  readonly random?: () => number;
}

/** Jitter of ±20 % around the interval, so the servers of many nodes are not pinged in lockstep. */
export function jitteredDelay(intervalMs: number, random: number): number {
  return Math.max(1, Math.round(intervalMs * (0.8 + 0.4 * random)));
}

/**
 * Counts players on servers that run no cloud plugin: every round pings each RUNNING instance
 * (bounded concurrency, each ping with its own timeout) and reports a count when it changes. A
 * ping that fails keeps the last count (a busy server that misses one answer has not emptied);
 * an instance that is no longer a target loses its count.
 */
export class PlayerCountPoller {
  private readonly counts = new Map<string, PlayerStatus>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private stopped = false;
  private round: Promise<void> | undefined;

  constructor(private readonly options: PlayerCountPollerOptions) {}

  /** The last count seen for the instance, if it answered a ping since it became a target. */
  count(instanceId: string): number | undefined {
    return this.counts.get(instanceId)?.online;
  }

  /** The last players block seen for the instance (count, slot limit, sample). */
  status(instanceId: string): PlayerStatus | undefined {
    return this.counts.get(instanceId);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.schedule();
  }

  /** Stops scheduling; a round in flight finishes but reports nothing more. */
  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One round now (also what the timer runs); resolves when every ping of the round settled. */
  pollOnce(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = jitteredDelay(this.options.intervalMs, (this.options.random ?? Math.random)());
    this.timer = setTimeout(() => {
      void this.pollOnce().finally(() => this.schedule());
    }, delay);
    // The poller never keeps a daemon (or a test process) alive on its own.
    this.timer.unref?.();
  }

  private async runRound(): Promise<void> {
    const targets = this.options.targets();
    const live = new Set(targets.map((target) => target.instanceId));
    for (const id of this.counts.keys()) if (!live.has(id)) this.counts.delete(id);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const target = targets[next++]!;
        await this.pollTarget(target);
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency, targets.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private async pollTarget(target: PollTarget): Promise<void> {
    let status: PlayerStatus;
    try {
      status = await this.options.ping(target.port);
    } catch {
      // a failed ping keeps the last count; the next interval pings again
      return;
    }
    if (!Number.isInteger(status.online) || status.online < 0) return;
    // The instance may have left RUNNING while the ping was in flight.
    if (!this.options.targets().some((t) => t.instanceId === target.instanceId)) return;
    if (sameStatus(this.counts.get(target.instanceId), status)) return;
    this.counts.set(target.instanceId, status);
    if (!this.stopped) this.options.onChange(target.instanceId, status);
  }
}
