/** /proc sampling: CPU time (user/kernel, all threads) and resident memory of a process. */

import { runQuiet } from "./proc.ts";

/** CPU time consumed so far by a process and all its threads, in microseconds. */
export interface CpuSample {
  userUs: number;
  kernelUs: number;
}

let clkTck = 100;

/** Reads the kernel clock tick rate (`getconf CLK_TCK`, 100 on Linux almost always). */
export async function initClockTicks(): Promise<number> {
  try {
    const r = await runQuiet("getconf", ["CLK_TCK"]);
    const n = Number(r.stdout.trim());
    if (r.code === 0 && Number.isFinite(n) && n > 0) clkTck = n;
  } catch {
    // keep 100
  }
  return clkTck;
}

/** utime + stime of `pid` from /proc/<pid>/stat (fields 14 and 15, after the comm field). */
export function readCpu(pid: number): CpuSample {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // comm may contain spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14 → index 11, stime field 15 → index 12
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { userUs: (utime * 1e6) / clkTck, kernelUs: (stime * 1e6) / clkTck };
}

/**
 * CPU time of this process plus its children that have exited and been waited for (wrk runs),
 * from fields 14–17 of /proc/self/stat.
 */
export function readSelfAndReapedCpu(): CpuSample {
  const text = Deno.readTextFileSync(`/proc/self/stat`);
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
  return {
    userUs: ((f[11]! + f[13]!) * 1e6) / clkTck,
    kernelUs: ((f[12]! + f[14]!) * 1e6) / clkTck,
  };
}

/** Machine-wide CPU time from the `cpu` line of /proc/stat, in microseconds. */
export interface MachineCpu {
  /** user + nice + system: time charged to processes. */
  processUs: number;
  /** irq + softirq not charged to any process. */
  irqUs: number;
  /** Time the hypervisor ran something else while this VM wanted to run. */
  stealUs: number;
}

export function readMachineCpu(): MachineCpu {
  const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const us = (x: number | undefined) => ((x ?? 0) * 1e6) / clkTck;
  return {
    processUs: us(v[0]) + us(v[1]) + us(v[2]),
    irqUs: us(v[5]) + us(v[6]),
    stealUs: us(v[7]),
  };
}

/** Difference of two CPU samples. */
export function cpuDelta(a: CpuSample, b: CpuSample): CpuSample {
  return { userUs: b.userUs - a.userUs, kernelUs: b.kernelUs - a.kernelUs };
}

/** Resident set size of `pid` in KiB (VmRSS from /proc/<pid>/status). */
export function readRssKiB(pid: number): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Facts about the machine for the report. */
export interface MachineInfo {
  nproc: number;
  kernel: string;
  cpuModel: string;
  memTotal: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = "unknown";
  let memTotal = "unknown";
  let nproc = navigator.hardwareConcurrency;
  try {
    // count online processors, not this process's affinity (the runner pins itself)
    const n = Deno.readTextFileSync("/proc/cpuinfo").match(/^processor\s*:/gm)?.length ?? 0;
    if (n > 0) nproc = n;
  } catch {
    // not Linux?
  }
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux?
  }
  try {
    const m = /^MemTotal:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    if (m) memTotal = `${(Number(m[1]) / 1024 / 1024).toFixed(1)} GiB`;
  } catch {
    // not Linux?
  }
  return {
    nproc,
    kernel: Deno.osRelease(),
    cpuModel,
    memTotal,
  };
}

/** CPU of `pids` summed (processes that have gone count as 0). */
export function sumCpu(pids: readonly number[]): CpuSample {
  const t: CpuSample = { userUs: 0, kernelUs: 0 };
  for (const pid of pids) {
    try {
      const c = readCpu(pid);
      t.userUs += c.userUs;
      t.kernelUs += c.kernelUs;
    } catch {
      // exited
    }
  }
  return t;
}
