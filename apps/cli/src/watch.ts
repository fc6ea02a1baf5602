import { ParleyCompacted } from '@parley/client';
import { CliError, EXIT } from './exit-codes';
import type { CommandContext, Outcome } from './commands';

/** One decision event as a line: index, type, entity, outcome, and who decided it. */
export function decisionLine(data: Record<string, unknown>): string {
  const result = (data.result ?? {}) as Record<string, unknown>;
  const status =
    typeof result.status === 'string'
      ? result.status
      : typeof result.title === 'string'
        ? result.title
        : 'ok';
  const outcome = typeof result.outcome === 'string' ? ` (${result.outcome})` : '';
  const by = data.decidedBy === 'deadline' ? '  [deadline]' : '';
  return `${String(data.index)}  ${String(data.type)}  ${String(data.entity)}  ${status}${outcome}${by}`;
}

const list = (value: string | boolean | undefined) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
    : undefined;

/**
 * `parley watch [--prefix P] [--types T] [--from N] [--count N]`: prints decisions as they are
 * committed, one line each (JSON lines with --json), through @parley/client's watch, which
 * resumes from the last index after a dropped stream and fails over across every --url; a
 * compacted resume point ends the command (exit 4), naming where to resync.
 */
export async function watch(context: CommandContext): Promise<Outcome> {
  const from = context.options.from;
  if (from !== undefined && (typeof from !== 'string' || !/^\d+$/.test(from)))
    throw new CliError('--from must be a whole number (the last index already seen)', EXIT.usage);
  const countRaw = context.options.count;
  const count = countRaw === undefined ? Infinity : Number(countRaw);
  if (count !== Infinity && (!Number.isSafeInteger(count) || count < 0))
    throw new CliError('--count must be a whole number', EXIT.usage);
  const json = context.options.json === true;
  const stop = new AbortController();
  let printed = 0;
  try {
    if (count > 0)
      for await (const event of context.client.watch({
        prefix: list(context.options.prefix),
        types: list(context.options.types),
        fromIndex: typeof from === 'string' ? Number(from) : undefined,
        signal: stop.signal,
        onAlert: (alert) => process.stdout.write(`alert ${JSON.stringify(alert)}\n`),
      })) {
        process.stdout.write(`${json ? JSON.stringify(event) : decisionLine(event)}\n`);
        printed += 1;
        if (printed >= count) break;
      }
  } catch (error) {
    if (error instanceof ParleyCompacted)
      throw new CliError(
        `the resume point is compacted; resync from index ${error.resyncFrom} (${error.message})`,
        EXIT.rejected,
      );
    throw error;
  } finally {
    stop.abort();
  }
  // Every event went out as it came; nothing is left to print at the end.
  return { text: '', json: undefined, printed: true };
}
