import { Command, DecisionEvent } from '@parley/decision';

/** An applied command as the mirror publishes it. */
export interface AppliedRecord {
  index: number;
  term: number;
  command: Command;
  result: unknown;
  replayed: boolean;
  /** What the entry decided (libs/decision's decisionEvents): the `decisions` records. */
  events: DecisionEvent[];
}

/** The entity a command is about: the Kafka key, so compaction keeps the latest per entity. */
export function entityKey(command: Command): string {
  switch (command.type) {
    case 'kv.put':
    case 'kv.delete':
      return `kv:${command.key}`;
    case 'inventory.restock':
    case 'inventory.reserve':
    case 'inventory.release':
      return `inventory:${command.sku}`;
    case 'budget.set':
    case 'budget.spend':
      return `budget:${command.campaign}`;
    case 'proposal.create':
    case 'proposal.vote':
      return `proposal:${command.proposalId}`;
    case 'clock':
      return 'system:clock';
    case 'mirror.cursor':
      return 'system:mirror';
  }
}
