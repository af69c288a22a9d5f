import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Asks the kernel for a free loopback port (for servers that cannot bind port 0 themselves). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Where workload port ranges start at the lowest: clear of well-known and registered services. */
const WORKLOAD_PORTS_FROM = 20_000;

/** The lowest port the kernel hands to outgoing connections (their source ports). */
function ephemeralFloor(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > WORKLOAD_PORTS_FROM ? low : 32_768;
  } catch {
    // not Linux, or /proc is not mounted: the IANA dynamic range's start is the usual floor
    return 32_768;
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The start of `size` consecutive free loopback ports for a group's instances, below the kernel's
 * ephemeral range. A range taken from `freePort()` lies inside that range, so any outgoing
 * connection (a driver, the daemon's gRPC client) can take one of its ports before the workload
 * binds it, and the freshly placed server dies with EADDRINUSE.
 */
export async function workloadPortRange(size = 64, host = "127.0.0.1"): Promise<number> {
  const top = ephemeralFloor() - size;
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = WORKLOAD_PORTS_FROM + Math.floor(Math.random() * (top - WORKLOAD_PORTS_FROM));
    let free = true;
    for (let port = start; free && port < start + size; port++) free = await canBind(port, host);
    if (free) return start;
  }
  throw new Error(`no ${size} consecutive free ports between ${WORKLOAD_PORTS_FROM} and ${top + size}`);
}
