import { topicDisagreements } from './kafka-topics';

describe('a Kafka topic against its configuration', () => {
  const spec = {
    topic: 'raft-log',
    numPartitions: 1,
    replicationFactor: 3,
    cleanupPolicy: 'compact' as const,
  };

  it('agrees when partitions, replication factor and cleanup policy match', () => {
    expect(
      topicDisagreements(spec, {
        numPartitions: 1,
        replicationFactor: 3,
        cleanupPolicy: 'compact',
      }),
    ).toEqual([]);
  });

  it('names each setting that differs', () => {
    expect(
      topicDisagreements(spec, { numPartitions: 3, replicationFactor: 1, cleanupPolicy: 'delete' }),
    ).toEqual([
      '3 partitions where 1 are configured',
      'replication factor 1 where 3 is configured',
      'cleanup.policy delete where compact is needed',
    ]);
  });

  it('takes a topic without a cleanup policy as delete, as Kafka does', () => {
    const plain = { topic: 'decisions', numPartitions: 2, replicationFactor: 1 };
    expect(
      topicDisagreements(plain, {
        numPartitions: 2,
        replicationFactor: 1,
        cleanupPolicy: undefined,
      }),
    ).toEqual([]);
    expect(
      topicDisagreements(plain, {
        numPartitions: 2,
        replicationFactor: 1,
        cleanupPolicy: 'compact',
      }),
    ).toEqual(['cleanup.policy compact where delete is needed']);
  });
});
