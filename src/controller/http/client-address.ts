import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses CIDRs once; IPv4-mapped IPv6 addresses are compared as IPv4. */
export class CidrSet {
  private readonly ranges: Range[];

  constructor(cidrs: string[]) {
    this.ranges = cidrs.map((c) => ipaddr.parseCIDR(c));
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  contains(address: string): boolean {
    const ip = parseAddress(address);
    if (!ip) return false;
    return this.ranges.some(
      ([range, bits]) => range.kind() === ip.kind() && ip.match([range, bits] as never),
    );
  }
}

export function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    const ip = ipaddr.parse(address.replace(/^\[|\]$/g, ""));
    return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()
      ? (ip as ipaddr.IPv6).toIPv4Address()
      : ip;
  } catch {
    // not an IP literal: no address (the caller treats it as unknown)
    return null;
  }
}

/**
 * The client's address. X-Forwarded-For is believed only when the TCP peer is a trusted proxy,
 * and then only as far as the chain stays inside trusted proxies: the right-most untrusted hop is
 * the client. A client sending its own X-Forwarded-For cannot pick its address.
 */
export function clientAddress(peer: string, forwardedFor: string | null, trustedProxies: CidrSet): string {
  const peerIp = parseAddress(peer);
  const normalizedPeer = peerIp ? peerIp.toString() : peer;
  if (!forwardedFor || trustedProxies.empty || !trustedProxies.contains(normalizedPeer))
    return normalizedPeer;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i]!);
    if (!hop) return normalizedPeer;
    if (!trustedProxies.contains(hop.toString())) return hop.toString();
  }
  return hops[0] ? (parseAddress(hops[0])?.toString() ?? normalizedPeer) : normalizedPeer;
}
