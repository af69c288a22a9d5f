/**
 * What the fault suite checks while a scenario runs and after it heals, from outside the product:
 * the processes on this host (/proc), the documents in the store (read directly, not through a
 * controller) and the REST answers. Every checker is a bounded sampler that stops when told.
 */
import { readdirSync, readFileSync } from "node:fs";
import { MongoClient } from "mongodb";
import type { AdminApi } from "../support/admin-api.ts";
import type { FaultCluster } from "./cluster.ts";

export interface WorkloadProcess {
  pid: number;
  nodeId: string;
  instanceId: string;
}

function environOf(pid: string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

function parentOf(pid: string): string | undefined {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").slice(0, 160);
  } catch {
    return "(gone)";
  }
}

/**
 * The workload process trees of the given nodes: one entry per tree root, i.e. a process carrying
 * CLOUD_INSTANCE_ID whose parent does not carry the same id. A monitor and the server it runs are
 * one tree; two roots for one id are two processes for one instance.
 */
export function workloadRoots(nodeIds: readonly string[]): WorkloadProcess[] {
  const byPid = new Map<string, { nodeId: string; instanceId: string }>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const env = environOf(pid);
    if (env === undefined) continue;
    const node = env.find((v) => v.startsWith("CLOUD_NODE_ID="))?.slice("CLOUD_NODE_ID=".length);
    if (node === undefined || !nodeIds.includes(node)) continue;
    const instance = env.find((v) => v.startsWith("CLOUD_INSTANCE_ID="))?.slice("CLOUD_INSTANCE_ID=".length);
    if (instance !== undefined) byPid.set(pid, { nodeId: node, instanceId: instance });
  }
  const roots: WorkloadProcess[] = [];
  for (const [pid, owner] of byPid) {
    const parent = parentOf(pid);
    // Gone between the two reads: a short-lived child (the monitor's `mv`, say), not a tree.
    if (parent === undefined) continue;
    if (byPid.get(parent)?.instanceId === owner.instanceId) continue;
    roots.push({ pid: Number(pid), ...owner });
  }
  return roots;
}

/** Samples /proc until stopped; records every moment two trees ran for one instance id. */
export class ProcessWatch {
  readonly violations: string[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly nodeIds: readonly string[]) {}

  start(intervalMs = 150): this {
    this.timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  /** instance id → the pids of its trees in the previous sample, when there were several */
  private doubled = new Map<string, string>();

  sample(): WorkloadProcess[] {
    const roots = workloadRoots(this.nodeIds);
    const seen = new Map<string, number[]>();
    for (const r of roots) seen.set(r.instanceId, [...(seen.get(r.instanceId) ?? []), r.pid]);
    const doubled = new Map<string, string>();
    for (const [id, pids] of seen) {
      if (pids.length < 2) continue;
      const key = pids.sort((a, b) => a - b).join(",");
      doubled.set(id, key);
      // Two samples in a row with the same trees: a second server, not a process caught between
      // fork and exec or while it is reparented on its way out.
      if (this.doubled.get(id) === key && this.violations.length < 20) {
        const detail = pids.map((pid) => `${pid} [parent ${parentOf(String(pid))}: ${commandOf(pid)}]`);
        this.violations.push(`instance ${id} ran as ${pids.length} processes at once: ${detail.join("; ")}`);
      }
    }
    this.doubled = doubled;
    return roots;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

interface FencedDoc {
  _id: string;
  _rev?: number;
  _fence?: { scope: string; token: number };
}

/**
 * Reads the fenced collections straight from MongoDB: a document's fencing token under one scope
 * never goes down (a write with a stale token that was accepted would lower it), and never exceeds
 * the store's high-water mark for that scope.
 */
export class FenceWatch {
  readonly violations: string[] = [];
  private readonly highest = new Map<string, number>();
  private client: MongoClient | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly uri: string,
    private readonly database: string,
    private readonly collections = ["instances", "groups", "nodes", "templates", "networks"],
  ) {}

  async start(intervalMs = 400): Promise<this> {
    this.client = await MongoClient.connect(this.uri, { serverSelectionTimeoutMS: 5000 });
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.sample().catch(() => undefined);
        await Bun.sleep(intervalMs); // a sampler's period, not a synchronisation
      }
    })();
    return this;
  }

  private async sample(): Promise<void> {
    const db = this.client!.db(this.database);
    for (const name of this.collections) {
      const docs = (await db
        .collection(name)
        .find({ _fence: { $exists: true } }, { projection: { _id: 1, _rev: 1, _fence: 1 } })
        .toArray()) as unknown as FencedDoc[];
      for (const doc of docs) {
        const fence = doc._fence;
        if (fence === undefined) continue;
        const key = `${name}/${doc._id}/${fence.scope}`;
        const before = this.highest.get(key) ?? 0;
        if (fence.token < before && this.violations.length < 20) {
          this.violations.push(
            `${key}: token went down from ${before} to ${fence.token} (rev ${doc._rev}): a stale write was accepted`,
          );
        }
        this.highest.set(key, Math.max(before, fence.token));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.close();
  }
}

/**
 * Writes while the fault happens: creates small MANUAL groups through whichever controller is up,
 * round-robin, and remembers every name a controller acknowledged (201). After the scenario each
 * acknowledged group must exist; refusals (503 during an outage) are expected and not counted.
 */
export class AckedWriter {
  readonly acked: string[] = [];
  refused = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: FaultCluster,
    private readonly prefix: string,
  ) {}

  start(intervalMs = 250, max = 400): this {
    this.running = true;
    this.loop = (async () => {
      for (let n = 0; this.running && n < max; n++) {
        const name = `${this.prefix}-${n}`;
        try {
          const api = this.cluster.api(n % this.cluster.controllers.length);
          const res = await withDeadline(
            api.call("POST", "/api/v1/groups", {
              name,
              platform: "CUSTOM",
              scalingMode: "MANUAL",
              memoryMb: 64,
              argvTemplate: ["true"],
            }),
            5000,
          );
          if (res.status === 201) this.acked.push(name);
          else this.refused++;
        } catch {
          this.refused++; // no live controller, or the request was cut: not acknowledged
        }
        await Bun.sleep(intervalMs); // the writer's pace, not a synchronisation
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Names acknowledged but not found now (through a live controller), after the fault healed. */
  async missing(api: AdminApi): Promise<string[]> {
    const lost: string[] = [];
    for (const name of this.acked) {
      const res = await api.call("GET", `/api/v1/groups/${name}`);
      if (res.status !== 200) lost.push(`${name} (${res.status})`);
    }
    return lost;
  }

  /** Removes what it wrote, so later scenarios run against the same world size. */
  async cleanup(api: AdminApi): Promise<void> {
    for (const name of this.acked) await api.call("DELETE", `/api/v1/groups/${name}`).catch(() => undefined);
  }
}

export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface InstanceView {
  id: string;
  group: string;
  nodeId: string;
  state: string;
}

/** Every instance record of a group (all pages). */
export async function instancesOf(api: AdminApi, group: string): Promise<InstanceView[]> {
  const all: InstanceView[] = [];
  for (let page = 1; page <= 20; page++) {
    const res = await withDeadline(
      api.call<{ data: InstanceView[]; total?: number }>(
        "GET",
        `/api/v1/services?group=${group}&pageSize=500&page=${page}`,
      ),
      5000,
    );
    if (res.status !== 200) throw new Error(`GET /services: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body.data);
    if (res.body.data.length < 500) break;
  }
  return all;
}

export interface Convergence {
  ok: boolean;
  detail: string;
}

const LIVE = new Set(["SCHEDULED", "PREPARING", "STARTING", "RUNNING", "DRAINING", "STOPPING"]);

/**
 * The healed state: every group at its desired RUNNING count, each RUNNING record backed by exactly
 * one process tree on its node, and no workload tree on our nodes without a live record there.
 */
export async function converged(
  api: AdminApi,
  desired: Readonly<Record<string, number>>,
  nodeIds: readonly string[],
): Promise<Convergence> {
  const roots = workloadRoots(nodeIds);
  const problems: string[] = [];
  const records = new Map<string, InstanceView>();
  for (const [group, want] of Object.entries(desired)) {
    const list = await instancesOf(api, group);
    for (const i of list) records.set(i.id, i);
    const running = list.filter((i) => i.state === "RUNNING");
    const pending = list.filter((i) => LIVE.has(i.state) && i.state !== "RUNNING");
    if (running.length !== want || pending.length > 0) {
      problems.push(`${group}: ${running.length}/${want} RUNNING, ${pending.length} other live`);
    }
    for (const r of running) {
      const trees = roots.filter((p) => p.instanceId === r.id);
      if (trees.length !== 1 || trees[0]!.nodeId !== r.nodeId) {
        problems.push(`${r.id}: RUNNING on ${r.nodeId} but ${trees.length} process tree(s) there`);
      }
    }
  }
  for (const p of roots) {
    const record = records.get(p.instanceId);
    if (record === undefined || !LIVE.has(record.state) || record.nodeId !== p.nodeId) {
      problems.push(
        `unmanaged workload: pid ${p.pid} (${p.instanceId} on ${p.nodeId}; record ${record?.state ?? "none"})`,
      );
    }
  }
  return { ok: problems.length === 0, detail: problems.slice(0, 12).join("; ") };
}
