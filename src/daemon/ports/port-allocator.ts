import { systemClock } from "../../core/clock.ts";
import { type BindProbe, tcpBindProbe } from "./bind-probe.ts";

/**
 * A port found bound by something outside the cloud is reported as used for this long, so the
 * scheduler places elsewhere instead of sending the same refused start to the same port again.
 */
export const FOREIGN_PORT_TTL_MS = 60_000;

/** Inclusive port range of a group (`portRangeStart`..`portRangeEnd`). */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

export class PortUnavailableError extends Error {
  readonly port: number;
  constructor(port: number, reason: string) {
    super(`port ${port} is unavailable: ${reason}`);
    this.name = "PortUnavailableError";
    this.port = port;
  }
}

export class PortRangeExhaustedError extends Error {
  readonly range: PortRange;
  constructor(range: PortRange) {
    super(`no free port in ${range.start}-${range.end}`);
    this.name = "PortRangeExhaustedError";
    this.range = range;
  }
}

export interface PortAllocatorOptions {
  /** Addresses a port must be bindable on; the wildcard (default) covers every interface. */
  readonly bindHosts?: readonly string[];
  readonly probe?: BindProbe;
  readonly now?: () => number;
}

/**
 * The node's port book. A port is handed out only if no instance holds it and the host can really
 * bind it (something outside the cloud may be listening). A port is claimed before it is probed, so
 * two concurrent allocations never pick the same one.
 */
export class PortAllocator {
  private readonly owners = new Map<number, string>();
  /** port → when it was last found bound by a process that is not ours */
  private readonly foreign = new Map<number, number>();
  private readonly hosts: readonly string[];
  private readonly probe: BindProbe;
  private readonly now: () => number;

  constructor(options: PortAllocatorOptions = {}) {
    this.hosts = options.bindHosts ?? ["0.0.0.0"];
    this.probe = options.probe ?? tcpBindProbe;
    this.now = options.now ?? systemClock.now;
  }

  /** The lowest port in `range` that is neither held nor bound on the host. */
  async allocate(owner: string, range: PortRange): Promise<number> {
    assertRange(range);
    for (let port = range.start; port <= range.end; port++) {
      if (this.owners.has(port)) continue;
      this.owners.set(port, owner);
      if (await this.bindable(port)) return port;
      this.owners.delete(port);
    }
    throw new PortRangeExhaustedError(range);
  }

  /** Claims a port chosen elsewhere (the plan's port, an adopted process's port). */
  async reserve(owner: string, port: number, options: { probe?: boolean } = {}): Promise<void> {
    assertPort(port);
    const holder = this.owners.get(port);
    if (holder === owner) return;
    if (holder !== undefined) throw new PortUnavailableError(port, `held by ${holder}`);
    this.owners.set(port, owner);
    if (options.probe !== false && !(await this.bindable(port))) {
      this.owners.delete(port);
      throw new PortUnavailableError(port, "already bound on this host");
    }
  }

  /** Frees every port `owner` holds; returns them. */
  release(owner: string): number[] {
    const freed: number[] = [];
    for (const [port, holder] of this.owners) {
      if (holder === owner) {
        this.owners.delete(port);
        freed.push(port);
      }
    }
    return freed;
  }

  portsOf(owner: string): number[] {
    return [...this.owners].filter(([, holder]) => holder === owner).map(([port]) => port);
  }

  /**
   * Every held port and every port recently found bound by someone else, ascending
   * (Heartbeat.used_ports): the scheduler must not pick either.
   */
  usedPorts(): number[] {
    const now = this.now();
    for (const [port, at] of this.foreign) if (now - at >= FOREIGN_PORT_TTL_MS) this.foreign.delete(port);
    return [...new Set([...this.owners.keys(), ...this.foreign.keys()])].sort((a, b) => a - b);
  }

  private async bindable(port: number): Promise<boolean> {
    for (const host of this.hosts) {
      if (!(await this.probe(port, host))) {
        this.foreign.set(port, this.now());
        return false;
      }
    }
    this.foreign.delete(port);
    return true;
  }
}

function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${port}`);
}

function assertRange(range: PortRange): void {
  assertPort(range.start);
  assertPort(range.end);
  if (range.start > range.end) throw new Error(`invalid port range ${range.start}-${range.end}`);
}
