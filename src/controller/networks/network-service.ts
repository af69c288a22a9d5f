import { Value } from "@sinclair/typebox/value";
import { NetworkSchema, type NetworkSpec } from "../../api/networks.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import type { CollectionName } from "../../store/collections.ts";
import { CLUSTER_META } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";

/** The network compositions, keyed by name. */
export const NETWORKS = "networks" satisfies CollectionName;

export { NetworkSchema, type NetworkSpec };

interface NetworkDoc extends Doc, Omit<NetworkSpec, "name"> {
  createdAt: number;
  updatedAt: number;
}

function view(doc: NetworkDoc): NetworkSpec {
  const { _id, _rev: _r, _fence: _f, createdAt: _c, updatedAt: _u, ...rest } = doc;
  return { name: _id, ...rest };
}

export class NetworkService {
  constructor(
    private readonly store: DurableStore,
    /** which groups exist: a network may only name groups that do (GroupService.existing) */
    private readonly groups: { existing(names: readonly string[]): Promise<Set<string>> },
    private readonly events: EventPublisher,
    private readonly lease: LeaseGateOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  private get networks() {
    return this.store.collection<NetworkDoc>(NETWORKS);
  }

  private async checkReferences(spec: NetworkSpec): Promise<void> {
    const referenced = new Set([
      spec.lobbyGroup,
      ...spec.fallbackGroups,
      ...spec.memberGroups,
      ...spec.proxyGroups,
      ...spec.bedrockFallbackGroups,
      ...(spec.bedrockLobbyGroup ? [spec.bedrockLobbyGroup] : []),
      ...Object.values(spec.forcedHosts ?? {}),
    ]);
    const known = await this.groups.existing([...referenced]);
    const missing = [...referenced].filter((name) => !known.has(name));
    if (missing.length > 0)
      throw new AppError("INVALID_ARGUMENT", `unknown group(s): ${missing.join(", ")}`, { missing });
  }

  async list(): Promise<NetworkSpec[]> {
    return (await this.networks.find({}, { sort: [["_id", 1]] })).map(view);
  }

  async get(name: string): Promise<NetworkSpec> {
    const doc = await this.networks.get(name);
    if (!doc) throw new AppError("NOT_FOUND", `network "${name}" not found`);
    return view(doc);
  }

  async create(input: NetworkSpec): Promise<NetworkSpec> {
    const spec = Value.Default(NetworkSchema, structuredClone(input)) as NetworkSpec;
    await this.checkReferences(spec);
    const { name, ...fields } = spec;
    const now = this.clock.now();
    const doc = await withLease(this.lease, `network:${name}`, (fence) =>
      this.networks.insert({ _id: name, ...fields, createdAt: now, updatedAt: now }, { fence }),
    ).catch(conflictOnDuplicate(`network "${name}" already exists`));
    await this.events.publish({ type: "NETWORK_CREATED", payload: { networkName: name } });
    return view(doc);
  }

  async replace(name: string, input: NetworkSpec): Promise<{ before: NetworkSpec; after: NetworkSpec }> {
    if (input.name !== name)
      throw new AppError(
        "INVALID_ARGUMENT",
        `the body's name "${input.name}" does not match the path "${name}"`,
      );
    const spec = Value.Default(NetworkSchema, structuredClone(input)) as NetworkSpec;
    await this.checkReferences(spec);
    return withLease(this.lease, `network:${name}`, async (fence) => {
      const current = await this.networks.get(name);
      if (!current) throw new AppError("NOT_FOUND", `network "${name}" not found`);
      const { name: _n, ...fields } = spec;
      const updated = await this.networks.put(
        { _id: name, ...fields, createdAt: current.createdAt, updatedAt: this.clock.now() },
        { fence },
      );
      await this.events.publish({ type: "NETWORK_UPDATED", payload: { networkName: name } });
      return { before: view(current), after: view(updated) };
    });
  }

  async delete(name: string): Promise<NetworkSpec> {
    return withLease(this.lease, `network:${name}`, async (fence) => {
      const before = await this.get(name);
      await this.networks.delete(name, { fence });
      await this.events.publish({ type: "NETWORK_DELETED", payload: { networkName: name } });
      return before;
    });
  }

  /** First start only: networks from controller.yml, once, when the collection has never been seeded. */
  async seed(entries: Array<Record<string, unknown>>): Promise<number> {
    const meta = this.store.collection<Doc & { at: number }>(CLUSTER_META);
    if (entries.length === 0 || (await meta.get("networks-seeded"))) return 0;
    let created = 0;
    for (const entry of entries) {
      if (!Value.Check(NetworkSchema, Value.Default(NetworkSchema, structuredClone(entry)))) {
        const first = Value.Errors(
          NetworkSchema,
          Value.Default(NetworkSchema, structuredClone(entry)),
        ).First();
        throw new AppError(
          "INVALID_ARGUMENT",
          `networks[${entries.indexOf(entry)}]${first?.path ?? ""}: ${first?.message ?? "invalid"}`,
        );
      }
      const spec = Value.Default(NetworkSchema, structuredClone(entry)) as NetworkSpec;
      if (await this.networks.get(spec.name)) continue;
      const { name, ...fields } = spec;
      await this.networks.insert({
        _id: name,
        ...fields,
        createdAt: this.clock.now(),
        updatedAt: this.clock.now(),
      });
      created++;
    }
    await meta.put({ _id: "networks-seeded", at: this.clock.now() });
    return created;
  }
}
