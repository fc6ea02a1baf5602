/** Text output: aligned tables for people, and a progress bar that only draws on a terminal. */

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((row) =>
    row.map((value) => (value === null || value === undefined ? '-' : String(value))),
  );
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => (row[column] ?? '').length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Key: value lines, keys aligned. */
export function fields(values: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(values).map((k) => k.length));
  return Object.entries(values)
    .map(
      ([key, value]) =>
        `${key.padEnd(width)}  ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '-')}`,
    )
    .join('\n');
}

/**
 * A progress bar on stderr, redrawn at most every 100 ms; silent when stderr is not a terminal
 * (scripts and --json get clean output).
 */
export class ProgressBar {
  private lastDrawn = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(done: number, note = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < this.total && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    const width = 30;
    const filled = this.total > 0 ? Math.round((done / this.total) * width) : width;
    const percent = this.total > 0 ? Math.floor((done / this.total) * 100) : 100;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${note}`,
    );
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
