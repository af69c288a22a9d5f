import type { RevocationKind } from "./port.ts";

/** Key families of the coordination store; the `v1` segment is reserved for keyspace migrations. */
export const DEFAULT_KEY_PREFIX = "prexor:v1:";

export class CoordKeys {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {}

  lease(scope: string): string {
    return `${this.prefix}lease:${scope}`;
  }
  leaseToken(scope: string): string {
    return `${this.prefix}lease-token:${scope}`;
  }
  leasePattern(): string {
    return `${this.prefix}lease:*`;
  }
  revoked(kind: RevocationKind, id: string): string {
    switch (kind) {
      case "jwt":
        return `${this.prefix}jwt:revoked:${id}`;
      case "nodecert-serial":
        return `${this.prefix}nodecert:revoked:serial:${id}`;
      case "nodecert-cn":
        return `${this.prefix}nodecert:revoked:cn:${id}`;
    }
  }
  loginFail(username: string): string {
    return `${this.prefix}login:fail:${username}`;
  }
  loginLock(username: string): string {
    return `${this.prefix}login:lock:${username}`;
  }
  rateLimit(bucket: string, key: string): string {
    return `${this.prefix}ratelimit:${bucket}:${key}`;
  }
  sseSequence(): string {
    return `${this.prefix}sse:sequence`;
  }
  sseReplay(): string {
    return `${this.prefix}sse:replay-stream`;
  }
  sseTicket(ticket: string): string {
    return `${this.prefix}sse:ticket:${ticket}`;
  }
  snapshot(family: string, id: string): string {
    return `${this.prefix}${family}:${id}`;
  }
  /** The set of a family's ids; `-index` cannot clash with `<family>:<id>` keys. */
  snapshotIndex(family: string): string {
    return `${this.prefix}${family}-index`;
  }
  channel(name: string): string {
    return `${this.prefix}events:${name}`;
  }
}

/** Lease values are `<holder>|<token>`; holders never contain `|`. */
export function leaseValue(holder: string, token: number): string {
  return `${holder}|${token}`;
}

export function checkHolder(holder: string): string {
  if (holder === "" || holder.includes("|")) throw new Error(`invalid lease holder "${holder}"`);
  return holder;
}
