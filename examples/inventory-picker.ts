/**
 * An inventory picker (npm run example:picker): it watches its SKU's decisions, reserves stock
 * for incoming orders, and, when stock runs out, asks its fellow pickers to vote on restocking;
 * it waits for the proposal's outcome on the watch stream and acts on it.
 */
import { DecisionEvent, ParleyError } from '@parley/client';
import { connect, runId } from './connect';

const PICKERS = ['picker-1', 'picker-2', 'picker-3'];

async function main(): Promise<void> {
  const parley = connect();
  const run = runId();
  const sku = `widget-${run}`;
  const proposalId = `restock-${run}`;
  const stop = new AbortController();
  const seen: DecisionEvent[] = [];
  // The index of the picker's last decision: once the watch has shown it, the picker is done.
  let lastIndex = Number.POSITIVE_INFINITY;
  let caughtUp!: () => void;
  const watchedAll = new Promise<void>((resolve) => (caughtUp = resolve));
  try {
    const stocked = await parley.inventory.restock(sku, 3);
    console.log(`picker: ${sku} stocked with ${stocked.available}`);
    // Every decision on this SKU and on the proposal, from the restock on, as it is taken.
    const watching = (async () => {
      for await (const event of parley.watch({
        prefix: [`inventory/${sku}`, `proposals/${proposalId}`],
        fromIndex: stocked.index - 1,
        signal: stop.signal,
      })) {
        seen.push(event);
        console.log(`picker: watched #${event.index} ${event.type} on ${event.entity}`);
        if (event.index >= lastIndex) caughtUp();
      }
    })();

    const refused: string[] = [];
    for (const order of ['o1', 'o2', 'o3', 'o4', 'o5']) {
      const decision = await parley.inventory.reserve(sku, { orderId: order, quantity: 1 });
      lastIndex = decision.index;
      console.log(
        `picker: order ${order}: ${decision.status}${decision.reason ? ` (${decision.reason})` : ''}, ${decision.available} left`,
      );
      if (decision.status === 'rejected') refused.push(order);
    }

    await parley.proposals.create({
      proposalId,
      options: ['restock', 'wait'],
      policy: { kind: 'majority', voters: PICKERS, deadlineMs: 10_000, onDeadline: 'reject' },
    });
    console.log(`picker: ${refused.length} orders refused; proposed ${proposalId} to the pickers`);
    for (const [agentId, option] of [
      ['picker-1', 'restock'],
      ['picker-2', 'restock'],
    ]) {
      const vote = await parley.proposals.vote(proposalId, { agentId, option });
      console.log(`picker: ${agentId} votes ${option}: counted ${vote.counted}, ${vote.status}`);
    }
    const outcome = await parley.proposals.waitForOutcome(proposalId);
    console.log(`picker: the pickers decided: ${outcome.outcome ?? 'nothing'} (${outcome.status})`);
    if (outcome.outcome === 'restock') {
      await parley.inventory.restock(sku, refused.length);
      for (const order of refused) {
        const decision = await parley.inventory.reserve(sku, { orderId: order, quantity: 1 });
        lastIndex = decision.index;
        console.log(`picker: order ${order} again: ${decision.status}`);
      }
    }
    const final = await parley.inventory.get(sku);
    if (seen.some((e) => e.index >= lastIndex)) caughtUp();
    const bound = setTimeout(caughtUp, 10_000); // the watch is a show here: never wait long
    await watchedAll;
    clearTimeout(bound);
    stop.abort();
    await watching;
    console.log(
      `picker: decided — ${final.reserved} reserved, ${final.available} available; the watch showed ${seen.length} decisions`,
    );
  } catch (error) {
    if (error instanceof ParleyError) console.error(`picker: ${error.name}: ${error.message}`);
    throw error;
  } finally {
    stop.abort();
    parley.close();
  }
}

main().catch(() => {
  process.exitCode = 1;
});
