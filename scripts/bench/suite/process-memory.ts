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

/** RSS in MiB of each named process. */
export function rssOf(pids: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, round1(rssMiB(pid) ?? NaN)]),
  );
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
