import type { Coordination, RevocationKind, Unsubscribe } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { PeerIdentity } from "../pki/index.ts";

export const CERT_REVOCATIONS = "cert_revocations" satisfies CollectionName;
const CHANNEL = "nodecert";

export interface RevocationDoc extends Doc {
  kind: "serial" | "cn";
  value: string;
  nodeId: string;
  revokedAt: number;
  revokedBy: string;
  /** the certificate's notAfter (or the operator's ttlDays): after it the record is moot */
  expiresAt: number;
}

export interface RevocationChange {
  op: "revoke" | "unrevoke";
  nodeId: string;
  serial: string;
  cn: string;
}

const COORD_KIND: Record<RevocationDoc["kind"], RevocationKind> = {
  serial: "nodecert-serial",
  cn: "nodecert-cn",
};

/**
 * Node-certificate revocation, kept in three places on purpose:
 *
 * - the durable store (`cert_revocations`) is the source of truth, so a revocation survives a
 *   Valkey flush or failover (Valkey is soft state here: the spec lets it be wiped);
 * - the coordination store (`nodecert:revoked:serial|cn:*`, TTL = remaining validity) is the shared
 *   fast path other components and tools can check; every resync re-asserts it from the durable
 *   records, so a wiped Valkey is repaired within one resync period;
 * - an in-memory copy answers the per-call check in the gRPC interceptor synchronously. It is
 *   rebuilt from the durable store at start and every resync, and updated at once from pub/sub, so
 *   a revocation on any controller reaches every controller's listener within a pub/sub round trip
 *   (or one resync if a message is lost).
 *
 * Listeners (the session registry) hear every change, local or remote, and close live streams.
 */
export class CertRevocations {
  private serials = new Map<string, number>();
  private cns = new Map<string, number>();
  private readonly listeners = new Set<(change: RevocationChange) => void>();
  private unsubscribe: Unsubscribe | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  private readonly store: DurableStore;
  private readonly coord: Coordination;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly resyncMs: number;

  /** Constructed empty: `start` loads the list, subscribes and resyncs from then on. */
  constructor(deps: {
    store: DurableStore;
    coord: Coordination;
    log: Logger;
    resyncMs?: number;
    now?: () => number;
  }) {
    this.store = deps.store;
    this.coord = deps.coord;
    this.log = deps.log;
    this.now = deps.now ?? systemClock.now;
    this.resyncMs = deps.resyncMs ?? 60_000;
  }

  async start(): Promise<void> {
    await this.resync();
    this.unsubscribe = await this.coord.subscribe(CHANNEL, (message) => this.onMessage(message));
    this.timer = setInterval(() => {
      this.resync().catch((err: unknown) => {
        this.log.warn({ err }, "certificate revocation resync failed");
      });
    }, this.resyncMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Stopping: a subscription whose connection is already gone has nothing left to undo.
    await this.unsubscribe?.().catch(() => {});
  }

  onChange(listener: (change: RevocationChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For the per-call interceptor: memory only, never blocks. */
  isRevokedCached(identity: PeerIdentity): boolean {
    const now = this.now();
    return (
      (this.serials.get(identity.serialNumber) ?? 0) > now || (this.cns.get(identity.commonName) ?? 0) > now
    );
  }

  /**
   * For a new session: memory, then the coordination store, then the durable store, so a
   * revocation made elsewhere whose message this controller missed still refuses the stream.
   */
  async isRevoked(identity: PeerIdentity): Promise<boolean> {
    if (this.isRevokedCached(identity)) return true;
    try {
      if (
        (await this.coord.isRevoked("nodecert-serial", identity.serialNumber)) ||
        (await this.coord.isRevoked("nodecert-cn", identity.commonName))
      ) {
        return true;
      }
    } catch {
      // Valkey down: the durable store below still answers.
    }
    const col = this.store.collection<RevocationDoc>(CERT_REVOCATIONS);
    const now = this.now();
    const found = await col.find({
      _id: { $in: [`serial:${identity.serialNumber}`, `cn:${identity.commonName}`] },
      expiresAt: { $gt: now },
    });
    for (const doc of found) this.remember(doc);
    return found.length > 0;
  }

  list(): Promise<RevocationDoc[]> {
    return this.store
      .collection<RevocationDoc>(CERT_REVOCATIONS)
      .find({ expiresAt: { $gt: this.now() } }, { sort: [["revokedAt", -1]] });
  }

  async revoke(input: { nodeId: string; serial: string; cn: string; expiresAt: number; by: string }) {
    const col = this.store.collection<RevocationDoc>(CERT_REVOCATIONS);
    const revokedAt = this.now();
    const docs: RevocationDoc[] = [
      {
        _id: `serial:${input.serial}`,
        kind: "serial",
        value: input.serial,
        nodeId: input.nodeId,
        revokedAt,
        revokedBy: input.by,
        expiresAt: input.expiresAt,
      },
      {
        _id: `cn:${input.cn}`,
        kind: "cn",
        value: input.cn,
        nodeId: input.nodeId,
        revokedAt,
        revokedBy: input.by,
        expiresAt: input.expiresAt,
      },
    ];
    for (const doc of docs) {
      await col.put(doc);
      this.remember(doc);
    }
    await this.assertInCoordination(docs);
    this.announce({ op: "revoke", nodeId: input.nodeId, serial: input.serial, cn: input.cn });
  }

  async unrevoke(input: { nodeId: string; serial: string; cn: string }) {
    const col = this.store.collection<RevocationDoc>(CERT_REVOCATIONS);
    await col.delete(`serial:${input.serial}`);
    await col.delete(`cn:${input.cn}`);
    this.serials.delete(input.serial);
    this.cns.delete(input.cn);
    try {
      // The port has no delete for revocations; a 1 ms TTL lets the key lapse at once.
      await this.coord.revoke("nodecert-serial", input.serial, 1);
      await this.coord.revoke("nodecert-cn", input.cn, 1);
    } catch (err) {
      this.log.warn({ err }, "could not clear revocation in the coordination store");
    }
    this.announce({ op: "unrevoke", nodeId: input.nodeId, serial: input.serial, cn: input.cn });
  }

  /**
   * A node id was deliberately re-enrolled: its CN revocation is lifted so the new certificate
   * works, while the serials of its earlier certificates stay revoked.
   */
  async forgetCommonName(cn: string): Promise<boolean> {
    const removed = await this.store.collection<RevocationDoc>(CERT_REVOCATIONS).delete(`cn:${cn}`);
    if (!removed && !this.cns.has(cn)) return false;
    this.cns.delete(cn);
    // The store row is gone; the coordination key expires after 1 s anyway.
    await this.coord.revoke("nodecert-cn", cn, 1).catch(() => {});
    this.announce({ op: "unrevoke", nodeId: cn, serial: "", cn });
    return true;
  }

  /** Rebuilds memory from the durable records, re-asserts them in Valkey, prunes expired ones. */
  async resync(): Promise<void> {
    const col = this.store.collection<RevocationDoc>(CERT_REVOCATIONS);
    const now = this.now();
    await col.deleteMany({ expiresAt: { $lte: now } });
    const live = await col.find({ expiresAt: { $gt: now } });
    const serials = new Map<string, number>();
    const cns = new Map<string, number>();
    for (const doc of live) (doc.kind === "serial" ? serials : cns).set(doc.value, doc.expiresAt);
    this.serials = serials;
    this.cns = cns;
    await this.assertInCoordination(live);
  }

  private async assertInCoordination(docs: RevocationDoc[]): Promise<void> {
    const now = this.now();
    try {
      for (const doc of docs) await this.coord.revoke(COORD_KIND[doc.kind], doc.value, doc.expiresAt - now);
    } catch (err) {
      // The durable record and memory already hold it; the next resync retries Valkey.
      this.log.warn({ err }, "could not write revocation to the coordination store");
    }
  }

  private remember(doc: RevocationDoc): void {
    (doc.kind === "serial" ? this.serials : this.cns).set(doc.value, doc.expiresAt);
  }

  private announce(change: RevocationChange): void {
    this.notify(change);
    this.coord.publish(CHANNEL, JSON.stringify(change)).catch((err: unknown) => {
      this.log.warn({ err }, "could not publish revocation; peers pick it up on resync");
    });
  }

  private onMessage(message: string): void {
    let change: RevocationChange;
    try {
      change = JSON.parse(message) as RevocationChange;
    } catch {
      // not a revocation change (another writer on the channel): ignore it; the periodic resync covers gaps
      return;
    }
    if (change.op === "revoke") {
      // The expiry is in the durable record; a far horizon here is corrected by the next resync.
      this.serials.set(
        change.serial,
        Math.max(this.serials.get(change.serial) ?? 0, this.now() + 86_400_000),
      );
      this.cns.set(change.cn, Math.max(this.cns.get(change.cn) ?? 0, this.now() + 86_400_000));
    } else if (change.op === "unrevoke") {
      if (change.serial !== "") this.serials.delete(change.serial);
      this.cns.delete(change.cn);
    } else {
      return;
    }
    this.notify(change);
  }

  private notify(change: RevocationChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.warn({ err }, "revocation listener failed");
      }
    }
  }
}
