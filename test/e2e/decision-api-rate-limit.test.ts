import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';

jest.setTimeout(60_000);

const LIMIT = 5;

/**
 * PARLEY_RATE_LIMIT_PER_SECOND is a budget per API key and per decision-api process (README,
 * "Operating notes"): the counts are not shared, so two processes over one cluster each let a
 * key through up to the limit, and a key refused by one is still served by the other.
 */
describe('decision-api rate limits with two processes over one cluster', () => {
  let cluster: CommandLogCluster;
  const apis: DecisionApi[] = [];

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(1);
    await cluster.waitForLeader();
    for (let i = 0; i < 2; i += 1)
      apis.push(await DecisionApi.start(cluster, { PARLEY_RATE_LIMIT_PER_SECOND: String(LIMIT) }));
  });
  afterAll(async () => {
    for (const api of apis) await api.stop();
    await cluster?.stop();
  });

  /** Reads with the reader key until the first 429 (bounded); how many got through first. */
  const untilRefused = async (api: DecisionApi) => {
    for (let served = 0; served < 50; served += 1) {
      const answer = await api.call('GET', '/v1/kv/rate?consistency=stale', 'reader');
      if (answer.status === 429) {
        expect(answer.headers.get('retry-after')).not.toBeNull();
        return served;
      }
      expect(answer.status).toBe(404);
    }
    throw new Error('no 429 in 50 requests');
  };

  it('each process enforces its own budget for the same key', async () => {
    const [first, second] = apis;
    const servedByFirst = await untilRefused(first);
    // The first process has just refused the key; the second has counted none of its requests,
    // so it serves a whole budget of them before refusing in turn.
    const servedBySecond = await untilRefused(second);
    process.stdout.write(
      `rate limit ${LIMIT}/s per process: first served ${servedByFirst} then 429, second served ${servedBySecond} then 429\n`,
    );
    expect(servedByFirst).toBeGreaterThanOrEqual(LIMIT);
    expect(servedBySecond).toBeGreaterThanOrEqual(LIMIT);
  });
});
