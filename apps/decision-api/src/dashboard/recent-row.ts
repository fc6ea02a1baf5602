import type { DecisionEvent } from '@parley/decision';

/** One row of the dashboard's "recent decisions": what was decided, about what, and how. */
export interface RecentRow {
  index: number;
  type: string;
  entity: string;
  outcome: string;
  decidedBy: DecisionEvent['decidedBy'];
}

/**
 * A decision event as a row. The outcome is the result's status (`accepted`, `rejected`,
 * `decided`), the chosen option when there is one, or the problem's title for a refused write
 * (`Conflict`); a plain write's result has no status: `ok`.
 */
export function recentRow(event: DecisionEvent): RecentRow {
  const { status, outcome, title } = event.result;
  let shown = typeof status === 'string' ? status : typeof title === 'string' ? title : 'ok';
  if (typeof outcome === 'string') shown += ` (${outcome})`;
  return {
    index: event.index,
    type: event.type,
    entity: event.entity,
    outcome: shown,
    decidedBy: event.decidedBy,
  };
}
