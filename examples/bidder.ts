/**
 * A bidder agent (npm run example:bidder): it gets a campaign budget, then, for each bid
 * request it wins, asks Parley to spend from the budget. Every spend is a decision the cluster
 * takes once, in log order: no two bidders can overspend the campaign between them, and a
 * retried spend (same bidId and requestId) is never counted twice.
 */
import { ParleyError } from '@parley/client';
import { connect, runId } from './connect';

const BUDGET = 1_000;
const BIDS = 12;

async function main(): Promise<void> {
  const parley = connect();
  const campaign = `spring-${runId()}`;
  try {
    await parley.budgets.set(campaign, BUDGET);
    console.log(`bidder: campaign ${campaign} has a budget of ${BUDGET}`);
    for (let n = 1; n <= BIDS; n += 1) {
      // The price this bid request clears at: what the bidder would pay if it wins.
      const price = 50 + ((n * 37) % 151);
      const decision = await parley.budgets.spend(campaign, { bidId: `bid-${n}`, amount: price });
      const why = decision.status === 'rejected' ? ` (${decision.reason})` : '';
      console.log(
        `bidder: bid-${n} for ${price}: ${decision.status}${why}, remaining ${decision.remaining}`,
      );
    }
    // The same bid again, as a bidder that lost the answer would send it: not spent twice.
    const again = await parley.budgets.spend(campaign, { bidId: 'bid-1', amount: 87 });
    console.log(`bidder: bid-1 sent again: ${again.status} (${again.reason ?? 'replayed'})`);
    const budget = await parley.budgets.get(campaign);
    console.log(
      `bidder: decided — spent ${budget.spent} of ${budget.limit}, ${budget.remaining} left`,
    );
  } catch (error) {
    if (error instanceof ParleyError) console.error(`bidder: ${error.name}: ${error.message}`);
    throw error;
  } finally {
    parley.close();
  }
}

main().catch(() => {
  process.exitCode = 1;
});
