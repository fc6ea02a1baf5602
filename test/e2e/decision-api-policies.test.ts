import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

/**
 * Proposal policies other than majority, through REST (SPEC §3, `policy`): when each one
 * decides, what it answers to a vote after that, and what each `onDeadline` does when the
 * deadline passes first. Deadlines fire from the leader's clock entries in the log, written
 * every 100 ms here.
 */
describe('decision-api: threshold, unanimous and weighted proposals', () => {
  let cluster: CommandLogCluster;
  let api: DecisionApi;

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(3, { PARLEY_CLOCK_INTERVAL_MS: '100' });
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster);
  });
  afterAll(async () => {
    await api?.stop();
    await cluster?.stop();
  });

  const propose = async (proposalId: string, policy: Record<string, unknown>) => {
    const created = await api.write('POST', '/v1/proposals', {
      requestId: `create-${proposalId}`,
      proposalId,
      options: ['yes', 'no'],
      policy,
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ proposalId, status: 'open' });
  };
  const vote = async (proposalId: string, agentId: string, option: string) => {
    const answer = await api.write('POST', `/v1/proposals/${proposalId}/votes`, {
      requestId: `vote-${proposalId}-${agentId}`,
      agentId,
      option,
    });
    expect(answer.status).toBe(200);
    return answer.json;
  };
  const read = async (proposalId: string) =>
    (await api.call('GET', `/v1/proposals/${proposalId}`, 'reader')).json;
  const closed = (proposalId: string) =>
    waitFor(`${proposalId} to close at its deadline`, async () => {
      const proposal = await read(proposalId);
      return proposal.status !== 'open' ? proposal : undefined;
    });
  const fiveVoters = ['a1', 'a2', 'a3', 'a4', 'a5'];
  const COUNTED_OPEN = { counted: true, status: 'open' };
  const countedDecided = (outcome: string) => ({ counted: true, status: 'decided', outcome });

  it('threshold: decided once an option holds threshold percent of the voters, not before', async () => {
    // 60 % of 5 voters is 3 votes.
    await propose('th', {
      kind: 'threshold',
      voters: fiveVoters,
      threshold: 60,
      deadlineMs: 60_000,
      onDeadline: 'reject',
    });
    expect(await vote('th', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await vote('th', 'a2', 'no')).toMatchObject(COUNTED_OPEN);
    expect(await vote('th', 'a3', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await vote('th', 'a4', 'yes')).toMatchObject(countedDecided('yes'));
    // Decided is final: a later vote is not counted and does not change the tally.
    expect(await vote('th', 'a5', 'no')).toMatchObject({
      counted: false,
      status: 'decided',
      outcome: 'yes',
    });
    expect(await read('th')).toEqual({
      proposalId: 'th',
      status: 'decided',
      outcome: 'yes',
      tally: { yes: 3, no: 1 },
    });
  });

  it('threshold at the deadline: onDeadline {default} decides the default option', async () => {
    await propose('th-late', {
      kind: 'threshold',
      voters: fiveVoters,
      threshold: 60,
      deadlineMs: 300,
      onDeadline: { default: 'no' },
    });
    expect(await vote('th-late', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await closed('th-late')).toEqual({
      proposalId: 'th-late',
      status: 'decided',
      outcome: 'no',
      tally: { yes: 1, no: 0 },
    });
  });

  it('unanimous: decided when every voter agrees; one dissent decides it with no outcome', async () => {
    const voters = ['a1', 'a2', 'a3'];
    await propose('un', { kind: 'unanimous', voters, deadlineMs: 60_000, onDeadline: 'reject' });
    expect(await vote('un', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await vote('un', 'a2', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await vote('un', 'a3', 'yes')).toMatchObject(countedDecided('yes'));

    await propose('un-split', {
      kind: 'unanimous',
      voters,
      deadlineMs: 60_000,
      onDeadline: 'reject',
    });
    expect(await vote('un-split', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    const dissent = await vote('un-split', 'a2', 'no');
    expect(dissent).toMatchObject({ counted: true, status: 'decided' });
    expect(dissent.outcome ?? null).toBeNull();
    expect(await vote('un-split', 'a3', 'yes')).toMatchObject({
      counted: false,
      status: 'decided',
    });
    const split = await read('un-split');
    expect(split).toMatchObject({ status: 'decided', tally: { yes: 1, no: 1 } });
    expect(split.outcome ?? null).toBeNull();
  });

  it('unanimous at the deadline: onDeadline reject expires it with no outcome', async () => {
    await propose('un-late', {
      kind: 'unanimous',
      voters: ['a1', 'a2', 'a3'],
      deadlineMs: 300,
      onDeadline: 'reject',
    });
    expect(await vote('un-late', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    const proposal = await closed('un-late');
    expect(proposal).toMatchObject({
      proposalId: 'un-late',
      status: 'expired',
      tally: { yes: 1, no: 0 },
    });
    expect(proposal.outcome ?? null).toBeNull();
    expect(await vote('un-late', 'a2', 'yes')).toMatchObject({ counted: false, status: 'expired' });
  });

  // Every vote here weighs the same (no weight is given anywhere), so these outcomes hold
  // whether a voter's weight comes with the vote or from the policy.
  it('weighted: decided once an option reaches the threshold weight', async () => {
    await propose('wt', {
      kind: 'weighted',
      voters: ['a1', 'a2', 'a3'],
      threshold: 2,
      deadlineMs: 60_000,
      onDeadline: 'reject',
    });
    expect(await vote('wt', 'a1', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await vote('wt', 'a2', 'no')).toMatchObject(COUNTED_OPEN);
    expect(await vote('wt', 'a3', 'yes')).toMatchObject(countedDecided('yes'));
    expect(await read('wt')).toEqual({
      proposalId: 'wt',
      status: 'decided',
      outcome: 'yes',
      tally: { yes: 2, no: 1 },
    });
  });

  it('weighted at the deadline: onDeadline plurality decides the option with the most weight', async () => {
    await propose('wt-late', {
      kind: 'weighted',
      voters: fiveVoters,
      threshold: 4,
      deadlineMs: 300,
      onDeadline: 'plurality',
    });
    expect(await vote('wt-late', 'a1', 'no')).toMatchObject(COUNTED_OPEN);
    expect(await vote('wt-late', 'a2', 'no')).toMatchObject(COUNTED_OPEN);
    expect(await vote('wt-late', 'a3', 'yes')).toMatchObject(COUNTED_OPEN);
    expect(await closed('wt-late')).toEqual({
      proposalId: 'wt-late',
      status: 'decided',
      outcome: 'no',
      tally: { yes: 1, no: 2 },
    });
  });
});
