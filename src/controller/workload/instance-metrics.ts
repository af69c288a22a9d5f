import type { Coordination } from "../../coord/port.ts";

/** Plugins report every few seconds; a snapshot this old means the plugin stopped reporting. */
export const METRICS_TTL_MS = 5 * 60_000;

export type MetricsKind = "server" | "proxy";

export interface InstanceMetricsRecord {
  instanceId: string;
  group: string;
  kind: MetricsKind;
  /** epoch ms */
  receivedAt: number;
  values: Record<string, unknown>;
}

/**
 * The latest metrics each instance's plugin reported. Runtime data, so it lives in the
 * coordination store (shared by every controller) with a TTL instead of in the durable store.
 */
export class InstanceMetrics {
  constructor(
    private readonly coord: Coordination,
    private readonly ttlMs = METRICS_TTL_MS,
  ) {}

  async record(record: InstanceMetricsRecord): Promise<void> {
    await this.coord.putSnapshot("instance-metrics", record.instanceId, JSON.stringify(record), this.ttlMs);
  }

  async latest(instanceId: string): Promise<InstanceMetricsRecord | null> {
    const raw = await this.coord.getSnapshot("instance-metrics", instanceId);
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as InstanceMetricsRecord;
    } catch {
      // an unreadable snapshot is treated as none; the next report rewrites it
      return null;
    }
  }

  forget(instanceId: string): Promise<void> {
    return this.coord.deleteSnapshot("instance-metrics", instanceId);
  }
}

export function toMetricsView(record: InstanceMetricsRecord) {
  return {
    ...record.values,
    instanceId: record.instanceId,
    group: record.group,
    kind: record.kind,
    receivedAt: new Date(record.receivedAt).toISOString(),
  };
}
