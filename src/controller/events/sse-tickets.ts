import type { Coordination } from "../../coord/port.ts";

/** Who a ticket was issued to; the stream acts with this identity. */
export interface TicketHolder {
  username: string;
  role: string;
}

export const TICKET_TTL_MS = 30_000;
const TICKET_BYTES = 24;
/** 24 bytes in URL-safe base64 without padding is exactly 32 characters of this alphabet. */
const TICKET_SHAPE = /^[A-Za-z0-9_-]{32}$/;

export interface SseTicketOptions {
  ttlMs?: number;
  /** injected so tests can pin the ticket value */
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * SSE authentication. Browsers cannot set headers on an EventSource, so a client trades its
 * bearer token for a short-lived, single-use ticket it may put in the URL: a leaked URL is worth
 * nothing after one use or 30 s. Tickets live in the coordination store so a ticket issued by
 * one controller is redeemable on any other.
 */
export class SseTickets {
  private readonly ttlMs: number;
  private readonly randomBytes: (n: number) => Uint8Array;

  constructor(
    private readonly coord: Coordination,
    options: SseTicketOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? TICKET_TTL_MS;
    this.randomBytes = options.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
  }

  async issue(holder: TicketHolder): Promise<string> {
    const ticket = Buffer.from(this.randomBytes(TICKET_BYTES)).toString("base64url");
    await this.coord.putTicket(
      ticket,
      JSON.stringify({ username: holder.username, role: holder.role }),
      this.ttlMs,
    );
    return ticket;
  }

  /** Consumes the ticket; null when it is malformed, unknown, expired or already used. */
  async redeem(ticket: string | undefined): Promise<TicketHolder | null> {
    // Shape first: a forged value never reaches the store as a key.
    if (!ticket || !TICKET_SHAPE.test(ticket)) return null;
    const value = await this.coord.takeTicket(ticket);
    if (value === null) return null;
    try {
      const parsed = JSON.parse(value) as Partial<TicketHolder>;
      if (typeof parsed.username !== "string" || typeof parsed.role !== "string") return null;
      return { username: parsed.username, role: parsed.role };
    } catch {
      // a ticket value we cannot read is refused like an unknown ticket (fail closed)
      return null;
    }
  }
}
