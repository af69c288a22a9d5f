import { statfsSync } from "node:fs";
import os from "node:os";
import { HostInfo, NodeCapacity } from "../../wire/index.ts";

const MB = 1024 * 1024;

/**
 * The node's capacity as Hello and Heartbeat report it. CPU usage is measured between two calls
 * (the first call reports 0), memory capacity honours `resources.maxMemoryMb` (0 = 80 % of physical
 * memory, leaving room for the OS and the daemon itself), disk is the filesystem holding the
 * instances directory.
 */
export class HostMetrics {
  private previous = cpuTimes();

  constructor(private readonly settings: { maxMemoryMb: number; diskPath: string }) {}

  capacity(): NodeCapacity {
    const now = cpuTimes();
    const busy = now.busy - this.previous.busy;
    const total = now.total - this.previous.total;
    this.previous = now;
    const physicalMb = Math.floor(os.totalmem() / MB);
    const disk = diskOf(this.settings.diskPath);
    return NodeCapacity.create({
      cpuUsage: total > 0 ? Math.min(1, Math.max(0, busy / total)) : 0,
      availableCpus: os.availableParallelism?.() ?? os.cpus().length,
      totalMemoryMb: this.settings.maxMemoryMb > 0 ? this.settings.maxMemoryMb : Math.floor(physicalMb * 0.8),
      usedMemoryMb: Math.floor((os.totalmem() - os.freemem()) / MB),
      totalDiskMb: disk.totalMb,
      freeDiskMb: disk.freeMb,
    });
  }
}

export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  return HostInfo.create({
    osName: os.type(),
    osVersion: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model ?? "",
    cpuLogicalCores: cpus.length,
    cpuMaxFreqHz: (cpus[0]?.speed ?? 0) * 1_000_000,
  });
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    total += sum;
    busy += sum - t.idle;
  }
  return { busy, total };
}

function diskOf(path: string): { totalMb: number; freeMb: number } {
  try {
    const stats = statfsSync(path);
    return {
      totalMb: Math.floor((stats.blocks * stats.bsize) / MB),
      freeMb: Math.floor((stats.bavail * stats.bsize) / MB),
    };
  } catch {
    // no such mount (or not readable): reported as zero rather than failing the heartbeat
    return { totalMb: 0, freeMb: 0 };
  }
}
