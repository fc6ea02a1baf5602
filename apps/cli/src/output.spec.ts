import { ProgressBar, fields, table } from './output';

describe('CLI output', () => {
  it('aligns table columns and shows missing values as -', () => {
    expect(
      table(
        ['node', 'commit'],
        [
          ['n1', 12],
          ['n10', null],
        ],
      ).split('\n'),
    ).toEqual(['node  commit', '----  ------', 'n1    12', 'n10   -']);
  });

  it('aligns key: value lines', () => {
    expect(fields({ a: 1, long: 'x', nested: { b: 2 } })).toBe(
      'a       1\nlong    x\nnested  {"b":2}',
    );
  });

  it('draws a progress bar on a terminal, and nothing otherwise', () => {
    const written: string[] = [];
    const stream = { write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar('bench', 4, stream, true);
    bar.update(4, '4/4');
    bar.finish();
    expect(written.join('')).toBe(`\rbench [${'#'.repeat(30)}] 100% 4/4\n`);

    const silent: string[] = [];
    const quiet = new ProgressBar(
      'bench',
      4,
      {
        write: (text: string) => silent.push(text),
      } as unknown as NodeJS.WriteStream,
      false,
    );
    quiet.update(2);
    quiet.finish();
    expect(silent).toEqual([]);
  });
});
