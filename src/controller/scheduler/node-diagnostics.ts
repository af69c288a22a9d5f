import type { Capacity } from "./capacity.ts";
import { isSchedulable } from "./feasibility.ts";
import type { NodeDiagnostic, SchedulerSettings } from "./types.ts";

/** Each node as the tick leaves it (its own placements included), with the watermarks it crosses. */
export function describeNodes(cap: Capacity, settings: SchedulerSettings): NodeDiagnostic[] {
  const out: NodeDiagnostic[] = [];
  for (let i = 0; i < cap.size; i++) {
    const node = cap.node(i);
    const memory = cap.memoryCommitted[i] ?? 0;
    const cpu = cap.cpuCommitted[i] ?? 0;
    const disk = cap.diskFree[i] ?? 0;
    const warnings: string[] = [];
    if (node.totalMemoryMb > 0 && memory / node.totalMemoryMb > settings.memoryWatermark) {
      warnings.push(`memory above ${settings.memoryWatermark * 100} % (${memory}/${node.totalMemoryMb} MB)`);
    }
    if (cpu > settings.cpuWatermark)
      warnings.push(`CPU above ${settings.cpuWatermark * 100} % (${cpu.toFixed(2)})`);
    if (disk < settings.diskLowWatermarkMb)
      warnings.push(`disk below ${settings.diskLowWatermarkMb} MB free (${disk} MB)`);
    const schedulable = isSchedulable(node);
    const reason = schedulable
      ? undefined
      : node.state !== "ONLINE"
        ? `not ONLINE (status=${node.state})`
        : "cordoned";
    out.push({
      node: node.id,
      schedulable,
      ...(reason === undefined ? {} : { reason }),
      memoryCommittedMb: memory,
      memoryTotalMb: node.totalMemoryMb,
      cpuCommitted: cpu,
      instances: cap.instanceCount[i] ?? 0,
      warnings,
    });
  }
  return out;
}
