import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on every Linux we run on). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds a process has used so far (user + system, every thread), from /proc/<pid>/stat;
 * undefined when it is gone. The command name in field 2 may hold spaces, so the fields are
 * counted from its closing parenthesis.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each named process. */
export function cpuOf(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) ?? NaN]),
  );
}

/** CPU seconds each named process used while `work` ran (a process gone meanwhile: NaN). */
export async function cpuDuring<T>(
  pids: Record<string, number>,
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const before = cpuOf(pids);
  const result = await work();
  const after = cpuOf(pids);
  return {
    result,
    cpuSeconds: Object.fromEntries(Object.keys(pids).map((n) => [n, after[n] - before[n]])),
  };
}

/** The sum of a set of CPU readings. */
export function totalOf(readings: Record<string, number>): number {
  return Object.values(readings).reduce((sum, value) => sum + value, 0);
}
