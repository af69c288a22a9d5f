import { Value } from "@sinclair/typebox/value";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError, conflictOnDuplicate } from "../../core/errors.ts";
import { checkGroup, referencesTo } from "../../core/groups/group-rules.ts";
import { GroupCreateSchema, type GroupPatch, type GroupSpec } from "../../core/groups/group-schema.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { type LeaseGateOptions, withLease } from "../lease-gate.ts";
import { TEMPLATES } from "../templates/template-service.ts";
import { mergeChain, type ResolvedGroup } from "./group-inheritance.ts";

/** The group definitions, keyed by name. */
export const GROUPS = "groups" satisfies CollectionName;

/** Bounds a parent chain a corrupt store could make endless (the rules refuse cycles). */
const MAX_PARENT_HOPS = 10;

export interface GroupDoc extends Doc, Omit<GroupSpec, "name"> {
  createdAt: number;
  updatedAt: number;
}

export type GroupView = GroupSpec & { createdAt: string; updatedAt: string };

export function toGroupView(doc: GroupDoc): GroupView {
  const { _id, _rev: _r, _fence: _f, createdAt, updatedAt, ...fields } = doc;
  return {
    name: _id,
    ...fields,
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
  };
}

function toSpec(doc: GroupDoc): GroupSpec {
  const { createdAt: _c, updatedAt: _u, ...view } = toGroupView(doc);
  return view;
}

/** Group configuration: validated as a whole at every write, fenced by the group's config lease. */
export class GroupService {
  constructor(
    private readonly store: DurableStore,
    private readonly events: EventPublisher,
    private readonly lease: LeaseGateOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  private get groups() {
    return this.store.collection<GroupDoc>(GROUPS);
  }

  /** Which of `names` are groups that exist (bounded by the names asked about). */
  async existing(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const found = await this.groups.find({ _id: { $in: [...names] } }, { limit: names.length });
    return new Set(found.map((g) => g._id));
  }

  private async refs() {
    return (await this.groups.find({}, { limit: 100_000 })).map((g) => ({
      name: g._id,
      parent: g.parent,
      dependsOn: g.dependsOn,
      fallbackGroup: g.fallbackGroup,
    }));
  }

  /**
   * A template the group names must exist: a plan would otherwise drop the layer and start a server
   * without the files the operator asked for.
   */
  private async checkTemplates(names: readonly string[] | undefined): Promise<void> {
    if (!names || names.length === 0) return;
    const found = await this.store
      .collection<Doc>(TEMPLATES)
      .find({ _id: { $in: [...names] } }, { limit: names.length });
    const known = new Set(found.map((t) => t._id));
    const missing = names.filter((n) => !known.has(n));
    if (missing.length > 0) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `unknown template${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")}: create ${missing.length > 1 ? "them" : "it"} first (prexorctl template create)`,
        { templates: missing },
      );
    }
  }

  async list(page: number, pageSize: number) {
    const { data, total } = await findPage(this.groups, {}, { page, pageSize }, [["_id", 1]]);
    return { data: data.map(toGroupView), total };
  }

  async get(name: string): Promise<GroupDoc> {
    const doc = await this.groups.get(name);
    if (!doc) throw new AppError("NOT_FOUND", `group "${name}" not found`);
    return doc;
  }

  async create(input: GroupSpec): Promise<GroupView> {
    const spec = Value.Default(GroupCreateSchema, structuredClone(input)) as GroupSpec;
    checkGroup(spec, await this.refs());
    await this.checkTemplates(spec.templates);
    const { name, ...fields } = spec;
    const now = this.clock.now();
    const doc = await withLease(this.lease, `group-config:${name}`, (fence) =>
      this.groups.insert({ _id: name, ...fields, createdAt: now, updatedAt: now }, { fence }),
    ).catch(conflictOnDuplicate(`group "${name}" already exists`));
    await this.events.publish({ type: "GROUP_CREATED", group: name, payload: { groupName: name } });
    return toGroupView(doc);
  }

  /** Merges the fields present, re-validates the whole group, writes only if nobody changed it meanwhile. */
  async update(name: string, patch: GroupPatch): Promise<{ before: GroupView; after: GroupView }> {
    if (Object.keys(patch).length === 0)
      throw new AppError("INVALID_ARGUMENT", "nothing to change: the body names no field");
    return withLease(this.lease, `group-config:${name}`, async (fence) => {
      const current = await this.get(name);
      const merged: GroupSpec = { ...toSpec(current), ...patch, name };
      checkGroup(merged, await this.refs());
      if (patch.templates !== undefined) await this.checkTemplates(merged.templates);
      const { name: _n, ...fields } = merged;
      const updated = await this.groups.update(
        name,
        { ...fields, updatedAt: this.clock.now() },
        { fence, ifRev: current._rev },
      );
      if (!updated) throw new AppError("NOT_FOUND", `group "${name}" not found`);
      const before = toGroupView(current);
      const after = toGroupView(updated);
      await this.events.publish({ type: "GROUP_UPDATED", group: name, payload: { groupName: name } });
      if (
        before.maintenance !== after.maintenance ||
        before.maintenanceMessage !== after.maintenanceMessage
      ) {
        await this.events.publish({
          type: "GROUP_MAINTENANCE_CHANGED",
          group: name,
          payload: { groupName: name, maintenance: after.maintenance, message: after.maintenanceMessage },
        });
      }
      return { before, after };
    });
  }

  async delete(name: string): Promise<GroupView> {
    return withLease(this.lease, `group-config:${name}`, async (fence) => {
      const current = await this.get(name);
      const referencing = referencesTo(name, await this.refs());
      if (referencing.length > 0) {
        throw new AppError(
          "ILLEGAL_STATE",
          `group "${name}" is still referenced by ${referencing.join(", ")}`,
          { referencing },
        );
      }
      await this.groups.delete(name, { fence });
      await this.events.publish({ type: "GROUP_DELETED", group: name, payload: { groupName: name } });
      return toGroupView(current);
    });
  }

  /** The group as the scheduler sees it: parent chain merged root first, child overriding. */
  async resolved(name: string): Promise<ResolvedGroup> {
    return this.resolvedFrom(name, await this.get(name));
  }

  /** As `resolved`, with the group's own fields replaced by `own` (a deployment revision's snapshot). */
  async resolvedAs(name: string, own: GroupSpec): Promise<ResolvedGroup> {
    const doc = await this.get(name);
    const { name: _n, ...fields } = own;
    return this.resolvedFrom(name, {
      _id: doc._id,
      _rev: doc._rev,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      ...fields,
    } as GroupDoc);
  }

  private async resolvedFrom(name: string, own: GroupDoc): Promise<ResolvedGroup> {
    const chain = [own];
    for (let parent = own.parent; parent && chain.length <= MAX_PARENT_HOPS; ) {
      const doc = await this.groups.get(parent);
      if (!doc) break;
      chain.unshift(doc);
      parent = doc.parent;
    }
    return mergeChain(name, chain);
  }
}
