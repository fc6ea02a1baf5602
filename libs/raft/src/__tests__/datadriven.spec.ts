import {
  ScriptError,
  describeMismatches,
  lineDiff,
  parseCommandLine,
  parseScript,
  rewriteScript,
  runScript,
} from './datadriven';

const script = [
  '# a comment',
  'echo a b=1 c=(x,y) d=()',
  '----',
  'old output',
  '',
  'echo second',
  'an input line',
  '----',
  '',
  '# trailing comment',
  '',
].join('\n');

describe('the data-driven script runner', () => {
  it('parses commands, arguments, inputs and expected outputs', () => {
    const cases = parseScript('t.txt', script);
    expect(cases.map((c) => [c.line, c.command, c.expected, c.input])).toEqual([
      [2, 'echo', 'old output', []],
      [6, 'echo', '', ['an input line']],
    ]);
    expect(cases[0].args).toEqual([
      { key: 'a', values: [] },
      { key: 'b', values: ['1'] },
      { key: 'c', values: ['x', 'y'] },
      { key: 'd', values: [] },
    ]);
  });

  it('reports a command without a ---- line with its file and line', () => {
    expect(() => parseScript('t.txt', 'x\n\ny\n')).toThrow(ScriptError);
    expect(() => parseScript('t.txt', 'x\n\ny\n')).toThrow('t.txt:1');
  });

  it('rewrites only the outputs, keeping comments and spacing', () => {
    const cases = parseScript('t.txt', script);
    const { actual, mismatches } = runScript(cases, (c) => `ran ${c.line}\nline two`);
    expect(mismatches.map((m) => m.line)).toEqual([2, 6]);
    const rewritten = rewriteScript(script, cases, actual);
    expect(rewritten).toBe(
      script
        .replace('old output', 'ran 2\nline two')
        .replace('----\n\n# trailing', '----\nran 6\nline two\n\n# trailing'),
    );
    // Rewriting is a fixed point: the rewritten script matches its own outputs.
    const again = parseScript('t.txt', rewritten);
    expect(runScript(again, (c) => `ran ${c.line === 2 ? 2 : 6}\nline two`).mismatches).toEqual([]);
  });

  it('prints "ok" for a command that printed nothing', () => {
    const cases = parseScript('t.txt', 'x\n----\nok\n');
    expect(runScript(cases, () => '').mismatches).toEqual([]);
  });

  it('refuses an output with a blank line, which a script cannot hold', () => {
    const cases = parseScript('t.txt', 'x\n----\n');
    expect(() => runScript(cases, () => 'a\n\nb')).toThrow(/blank line/);
  });

  it('shows a mismatch as a line diff', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c'])).toBe('  a\n+ x\n- b\n  c');
    const report = describeMismatches('t.txt', [
      { line: 7, command: 'stabilize', expected: 'a', actual: 'b' },
    ]);
    expect(report).toContain('t.txt:7: stabilize');
    expect(report).toContain('PARLEY_REWRITE=1');
  });

  it('splits a command line on whitespace', () => {
    expect(parseCommandLine('  tick   1 count=3 ')).toEqual({
      command: 'tick',
      args: [
        { key: '1', values: [] },
        { key: 'count', values: ['3'] },
      ],
    });
  });
});
