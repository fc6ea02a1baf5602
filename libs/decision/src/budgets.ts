/**
 * Campaign budgets. Invariant: spent never exceeds the limit at the time of a spend; a bid id
 * is spent at most once per campaign.
 */
import { assert } from '@parley/common';

export interface Budget {
  limit: number;
  spent: number;
  bids: Set<string>;
}

export type SpendResult =
  | { status: 'accepted'; campaign: string; remaining: number; index: number }
  | {
      status: 'rejected';
      reason: 'over-budget' | 'unknown-campaign' | 'bid-exists';
      campaign: string;
      remaining: number;
      index: number;
    };

export class Budgets {
  campaigns = new Map<string, Budget>();

  set(index: number, campaign: string, limit: number) {
    const budget = this.campaigns.get(campaign) ?? { limit: 0, spent: 0, bids: new Set<string>() };
    budget.limit = limit;
    this.campaigns.set(campaign, budget);
    return { status: 'ok' as const, ...this.view(campaign, budget), index };
  }

  spend(index: number, campaign: string, bidId: string, amount: number): SpendResult {
    const budget = this.campaigns.get(campaign);
    if (!budget)
      return { status: 'rejected', reason: 'unknown-campaign', campaign, remaining: 0, index };
    const remaining = Math.max(0, budget.limit - budget.spent);
    if (budget.bids.has(bidId))
      return { status: 'rejected', reason: 'bid-exists', campaign, remaining, index };
    if (amount > remaining)
      return { status: 'rejected', reason: 'over-budget', campaign, remaining, index };
    budget.spent += amount;
    budget.bids.add(bidId);
    assert(budget.spent <= budget.limit, `${campaign} overspent`);
    return { status: 'accepted', campaign, remaining: budget.limit - budget.spent, index };
  }

  get(campaign: string) {
    const budget = this.campaigns.get(campaign);
    return budget ? this.view(campaign, budget) : undefined;
  }

  private view(campaign: string, budget: Budget) {
    return {
      campaign,
      limit: budget.limit,
      spent: budget.spent,
      remaining: Math.max(0, budget.limit - budget.spent),
    };
  }
}
