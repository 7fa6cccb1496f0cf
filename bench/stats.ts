/** Small helpers for benchmarks: medians, timing, process-tree memory. */
import { readFileSync, readdirSync } from 'node:fs';

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The value after `--name` on the command line, if given. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The chart history and repetitions the render benchmarks use: 10 years × 50 sensors, 5 runs by default. */
export function renderBenchArgs(): { days: number; sensors: number; runs: number } {
  return { days: Number(argValue('--days') ?? 3650), sensors: Number(argValue('--sensors') ?? 50), runs: Number(argValue('--runs') ?? 5) };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Resident set size of a process in MB (0 when it is gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of `root` and all its descendants (Linux /proc). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Reads `read()` every `everyMs` until stopped; `stop()` gives the largest value read. */
function sampleMax(read: () => number, everyMs: number): { stop(): number } {
  let max = 0;
  const tick = () => {
    const value = read();
    if (value > max) max = value;
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return max;
    },
  };
}

/** Samples the summed RSS of a process tree every `everyMs` until stopped; returns the peak in MB. */
export function sampleTreePeak(root: number, everyMs = 50): { stop(): number } {
  return sampleMax(() => processTree(root).reduce((sum, pid) => sum + rssMb(pid), 0), everyMs);
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux this runs on. */
const USER_HZ = 100;

/** CPU (user + system, every thread) a process has used so far, ms (Linux /proc; 0 when it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return 0;
  }
}

/** The CPU a process tree has used so far, ms: the sum over the root and its live descendants. */
export function treeCpuMs(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + cpuMs(pid), 0);
}

/**
 * Follows a process's CPU, ms, until it exits: sampled every `everyMs`, since a process's counters go with it;
 * `stop()` once it has exited gives the last sample (at most `everyMs` of its work is missed).
 */
export function followCpu(pid: number, everyMs = 20): { stop(): number } {
  return sampleMax(() => cpuMs(pid), everyMs);
}
