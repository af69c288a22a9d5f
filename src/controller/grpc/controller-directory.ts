import type { Coordination } from "../../coord/port.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";

/** A controller's entry lives this long unless renewed; renewed at a third of it. */
const ENTRY_TTL_MS = 30_000;

interface DirectoryEntry {
  grpc: string[];
  at: number;
}

/**
 * Every live controller's advertised gRPC addresses, in the coordination store (`controller:<id>`
 * snapshots with a TTL). HelloAck hands the list to daemons, so a daemon configured with one
 * controller can still fail over to any of them; a controller that dies drops out within the TTL.
 */
export async function announceController(
  coord: Coordination,
  controllerId: string,
  grpcAddrs: readonly string[],
  log: Logger,
  clock: Clock = systemClock,
): Promise<{ stop(): Promise<void> }> {
  const put = async () => {
    if (grpcAddrs.length === 0) return;
    const entry: DirectoryEntry = { grpc: [...grpcAddrs], at: clock.now() };
    try {
      await coord.putSnapshot("controller", controllerId, JSON.stringify(entry), ENTRY_TTL_MS);
    } catch (err) {
      // Coordination is down: daemons keep the list they learned; the next renewal re-announces.
      log.debug({ err }, "could not announce this controller's gRPC address");
    }
  };
  await put();
  const timer = clock.setInterval(() => void put(), ENTRY_TTL_MS / 3, { unref: true });
  return {
    async stop() {
      clock.clearInterval(timer);
      // shutting down: an entry left behind expires with its TTL
      await coord.deleteSnapshot("controller", controllerId).catch(() => undefined);
    },
  };
}

/** The advertised addresses of every controller whose entry is live. */
export async function liveControllerAddrs(coord: Coordination): Promise<string[]> {
  const addrs = new Set<string>();
  for (const snapshot of await coord.listSnapshots("controller")) {
    try {
      for (const addr of (JSON.parse(snapshot.value) as DirectoryEntry).grpc ?? []) addrs.add(addr);
    } catch {
      // A malformed entry names nobody.
    }
  }
  return [...addrs];
}

/** How old a directory read may be before a session's ping looks it up again. */
const DIRECTORY_CACHE_MS = 5_000;

/**
 * `liveControllerAddrs`, read at most once per DIRECTORY_CACHE_MS for all of a controller's node
 * sessions: each session checks the list on every ping (to tell its daemon of a controller added
 * since it connected), and thousands of sessions must not each scan the coordination store. A
 * failed read is not cached; the caller falls back to the list it has.
 */
export function cachedControllerAddrs(
  coord: Coordination,
  now: () => number = systemClock.now,
): () => Promise<string[]> {
  let cached: { at: number; addrs: string[] } | undefined;
  let inflight: Promise<string[]> | undefined;
  return () => {
    if (cached && now() - cached.at < DIRECTORY_CACHE_MS) return Promise.resolve(cached.addrs);
    inflight ??= liveControllerAddrs(coord)
      .then((addrs) => {
        cached = { at: now(), addrs };
        return addrs;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
