/**
 * A small data-driven test runner in the manner of etcd's (cockroachdb/datadriven): a script is
 * a sequence of commands, each followed by `----` and the output it is expected to print.
 *
 *     # comments and blank lines are kept as they are
 *     campaign 1
 *     ----
 *     ok
 *
 * An expected output ends at the first blank line, so outputs never contain one. Running a script
 * yields the actual output of every command; the caller either compares (any difference fails)
 * or rewrites the script with the actual outputs. Pure: the caller reads and writes the files.
 */

export interface CommandArg {
  /** `key` of `key=value`, or the value itself for a positional argument. */
  readonly key: string;
  /** Values of `key=value` or `key=(a,b,c)`; empty for a positional argument. */
  readonly values: readonly string[];
}

export interface TestCase {
  /** 1-based line of the command in the script, for error messages. */
  readonly line: number;
  readonly command: string;
  readonly args: readonly CommandArg[];
  /** Lines between the command and `----` (most commands take none). */
  readonly input: readonly string[];
  readonly expected: string;
  /** Where the expected output sits in the script's lines: [start, end). */
  readonly outputStart: number;
  readonly outputEnd: number;
}

export class ScriptError extends Error {
  constructor(source: string, line: number, problem: string) {
    super(`${source}:${line}: ${problem}`);
    this.name = 'ScriptError';
  }
}

const SEPARATOR = '----';

function isBlank(line: string): boolean {
  return line.trim() === '';
}

/** `name pos key=value key=(a,b)` → the command name and its arguments. */
export function parseCommandLine(text: string): { command: string; args: CommandArg[] } {
  const tokens = text.trim().split(/\s+/);
  const args = tokens.slice(1).map((token): CommandArg => {
    const eq = token.indexOf('=');
    if (eq < 0) return { key: token, values: [] };
    const key = token.slice(0, eq);
    let value = token.slice(eq + 1);
    if (value.startsWith('(') && value.endsWith(')')) {
      value = value.slice(1, -1);
      return { key, values: value === '' ? [] : value.split(',') };
    }
    return { key, values: [value] };
  });
  return { command: tokens[0], args };
}

export function parseScript(source: string, text: string): TestCase[] {
  const lines = text.split('\n');
  const cases: TestCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line) || line.startsWith('#')) {
      i += 1;
      continue;
    }
    const commandLine = i;
    const input: string[] = [];
    i += 1;
    while (i < lines.length && lines[i] !== SEPARATOR) {
      if (isBlank(lines[i]))
        throw new ScriptError(source, commandLine + 1, `"${line}" has no ${SEPARATOR} line`);
      input.push(lines[i]);
      i += 1;
    }
    if (i >= lines.length)
      throw new ScriptError(source, commandLine + 1, `"${line}" has no ${SEPARATOR} line`);
    i += 1;
    const outputStart = i;
    while (i < lines.length && !isBlank(lines[i])) i += 1;
    const { command, args } = parseCommandLine(line);
    cases.push({
      line: commandLine + 1,
      command,
      args,
      input,
      expected: lines.slice(outputStart, i).join('\n'),
      outputStart,
      outputEnd: i,
    });
  }
  return cases;
}

/** The script with every expected output replaced by the actual one (same order as cases). */
export function rewriteScript(text: string, cases: readonly TestCase[], actual: string[]): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let at = 0;
  cases.forEach((c, k) => {
    out.push(...lines.slice(at, c.outputStart));
    if (actual[k] !== '') out.push(...actual[k].split('\n'));
    at = c.outputEnd;
  });
  out.push(...lines.slice(at));
  return out.join('\n');
}

export interface Mismatch {
  readonly line: number;
  readonly command: string;
  readonly expected: string;
  readonly actual: string;
}

/** A readable report of the first mismatches: each as the command and a line diff. */
export function describeMismatches(source: string, mismatches: readonly Mismatch[]): string {
  const shown = mismatches.slice(0, 3).map((m) => {
    const diff = lineDiff(m.expected.split('\n'), m.actual.split('\n'));
    return `${source}:${m.line}: ${m.command}\n${diff}`;
  });
  const more = mismatches.length > 3 ? `\n… and ${mismatches.length - 3} more` : '';
  return (
    `${mismatches.length} command(s) printed something other than expected ` +
    `(- expected, + actual; PARLEY_REWRITE=1 rewrites the file):\n\n` +
    shown.join('\n\n') +
    more
  );
}

/** A minimal line diff (longest common subsequence); scripts' outputs are short. */
export function lineDiff(expected: readonly string[], actual: readonly string[]): string {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] =
        expected[i] === actual[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i]}`);
      i += 1;
      j += 1;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push(`+ ${actual[j]}`);
      j += 1;
    } else {
      out.push(`- ${expected[i]}`);
      i += 1;
    }
  }
  return out.join('\n');
}

/**
 * Runs every case through `run` (which returns the command's output) and returns the actual
 * outputs and the mismatches. A command's output is never empty: "ok" stands for nothing.
 */
export function runScript(
  cases: readonly TestCase[],
  run: (c: TestCase) => string,
): { actual: string[]; mismatches: Mismatch[] } {
  const actual: string[] = [];
  const mismatches: Mismatch[] = [];
  for (const c of cases) {
    const output = run(c).replace(/\n+$/, '') || 'ok';
    // A blank line would end the expected output early when the script is read back.
    if (/\n\s*\n/.test(output))
      throw new Error(
        `line ${c.line}: ${c.command} printed a blank line, which scripts cannot hold`,
      );
    actual.push(output);
    if (output !== c.expected)
      mismatches.push({ line: c.line, command: c.command, expected: c.expected, actual: output });
  }
  return { actual, mismatches };
}
