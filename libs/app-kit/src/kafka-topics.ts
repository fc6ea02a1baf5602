import type { Admin, ConfigResourceTypes } from 'kafkajs';

/**
 * kafkajs's ConfigResourceTypes.TOPIC, written out: the enum is a value, and importing it would
 * load kafkajs (~13 MiB resident) into every app using this kit, brokers configured or not.
 */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes.TOPIC;

/** A Kafka topic as the configuration wants it. */
export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  /** `compact` for a topic that keeps the latest record per key (raft-log). */
  cleanupPolicy?: 'compact' | 'delete';
}

/** What a broker says a topic is. */
export interface TopicFacts {
  numPartitions: number;
  replicationFactor: number;
  cleanupPolicy: string | undefined;
}

/** A topic exists with other settings than the configuration: started on, it would misbehave. */
export class TopicMismatchError extends Error {
  override readonly name = 'TopicMismatchError';
}

/** How an existing topic differs from its spec, one line per setting (none: it agrees). */
export function topicDisagreements(spec: TopicSpec, facts: TopicFacts): string[] {
  const out: string[] = [];
  if (facts.numPartitions !== spec.numPartitions)
    out.push(`${facts.numPartitions} partitions where ${spec.numPartitions} are configured`);
  if (facts.replicationFactor !== spec.replicationFactor)
    out.push(
      `replication factor ${facts.replicationFactor} where ${spec.replicationFactor} is configured`,
    );
  const policy = spec.cleanupPolicy ?? 'delete';
  if ((facts.cleanupPolicy ?? 'delete') !== policy)
    out.push(`cleanup.policy ${facts.cleanupPolicy ?? 'delete'} where ${policy} is needed`);
  return out;
}

/**
 * Creates the topics that are missing, as configured, and checks those that exist: a topic
 * that disagrees throws TopicMismatchError naming each difference (Kafka cannot change a
 * replication factor or lower a partition count in place; the operator decides).
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: specs.map((spec) => ({
      topic: spec.topic,
      numPartitions: spec.numPartitions,
      replicationFactor: spec.replicationFactor,
      configEntries: spec.cleanupPolicy
        ? [{ name: 'cleanup.policy', value: spec.cleanupPolicy }]
        : [],
    })),
  });
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({
      type: TOPIC_RESOURCE,
      name: s.topic,
      configNames: ['cleanup.policy'],
    })),
  });
  const problems: string[] = [];
  for (const spec of specs) {
    const meta = topics.find((t) => t.name === spec.topic);
    const policy = configs.resources
      .find((r) => r.resourceName === spec.topic)
      ?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
    const facts: TopicFacts = {
      numPartitions: meta?.partitions.length ?? 0,
      replicationFactor: meta?.partitions[0]?.replicas.length ?? 0,
      cleanupPolicy: policy,
    };
    for (const line of topicDisagreements(spec, facts))
      problems.push(`topic ${spec.topic}: ${line}`);
  }
  if (problems.length > 0)
    throw new TopicMismatchError(
      `${problems.join('; ')}. Change the configuration to match, or recreate the topic.`,
    );
}
