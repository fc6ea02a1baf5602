import { spawn } from 'node:child_process';
import { LocalCluster, repoRoot } from '../support/local-cluster';

jest.setTimeout(240_000);

/** The examples as a user runs them: `npm run example:…` against `npm start`'s cluster. */
describe('the examples against a local cluster', () => {
  const cluster = new LocalCluster(0);

  const example = (name: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', `example:${name}`], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '',
          PARLEY_URL: cluster.api,
          PARLEY_DATA_DIR: cluster.dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });

  beforeAll(async () => {
    cluster.start();
    await cluster.ready();
  });
  afterAll(() => cluster.dispose());

  it('the bidder spends within its budget and never spends a bid twice', async () => {
    const { code, out } = await example('bidder');
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toMatch(/bid-1 for 87: accepted, remaining 913/);
    expect(out).toMatch(/over-budget/);
    expect(out).toMatch(/bid-1 sent again: rejected \(bid-exists\)/);
    const [, spent, limit] = /decided — spent (\d+) of (\d+)/.exec(out)!;
    expect(Number(spent)).toBeLessThanOrEqual(Number(limit));
  });

  it('the picker reserves, runs out, gets a restock voted, and watches every decision', async () => {
    const { code, out } = await example('picker');
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out.match(/order o\d: accepted/g)).toHaveLength(3);
    expect(out.match(/order o\d: rejected \(out-of-stock\)/g)).toHaveLength(2);
    expect(out).toMatch(/the pickers decided: restock \(decided\)/);
    expect(out.match(/order o\d again: accepted/g)).toHaveLength(2);
    expect(out).toMatch(/decided — 5 reserved, 0 available/);
    // restock, five reservations, the proposal, two votes, the restock, two reservations
    expect(out.match(/watched #\d+ /g)).toHaveLength(12);
  });
});
