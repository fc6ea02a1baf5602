import { readFileSync } from 'node:fs';

/** Resident set size of a process in MiB, from /proc (Linux); undefined when it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Memory only this process holds, in MiB (Private_Clean + Private_Dirty of
 * /proc/<pid>/smaps_rollup, the "unique set size"): RSS also counts pages shared with other
 * processes, such as the node binary's code (~55 MiB), which several Node processes on one
 * machine hold once. Undefined when the process is gone or the file is unreadable.
 */
export function privateMiB(pid: number): number | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const clean = /^Private_Clean:\s+(\d+) kB$/m.exec(rollup);
    const dirty = /^Private_Dirty:\s+(\d+) kB$/m.exec(rollup);
    return clean && dirty ? (Number(clean[1]) + Number(dirty[1])) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One reading in MiB of each named process, to a tenth (null when it is gone). */
function eachOf(
  pids: Record<string, number>,
  read: (pid: number) => number | undefined,
): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, round1(read(pid) ?? NaN)]),
  );
}

/** Private memory (see privateMiB) in MiB of each named process. */
export function privateOf(pids: Record<string, number>): Record<string, number | null> {
  return eachOf(pids, privateMiB);
}

/** RSS in MiB of each named process. */
export function rssOf(pids: Record<string, number>): Record<string, number | null> {
  return eachOf(pids, rssMiB);
}

/** The highest RSS each process reached while `work` ran, sampled every 200 ms. */
export async function peakRssDuring<T>(
  pids: Record<string, number>,
  work: Promise<T>,
): Promise<{ result: T; peakMiB: Record<string, number | null> }> {
  const peak: Record<string, number> = {};
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = rssMiB(pid);
      if (rss !== undefined) peak[name] = Math.max(peak[name] ?? 0, rss);
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  try {
    const result = await work;
    sample();
    return {
      result,
      peakMiB: Object.fromEntries(Object.keys(pids).map((n) => [n, round1(peak[n] ?? NaN)])),
    };
  } finally {
    clearInterval(timer);
  }
}

function round1(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : null;
}
