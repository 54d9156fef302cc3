import { Kafka, logLevel } from 'kafkajs';

export interface PartitionLag {
  group: string;
  /** The group's state on the broker (Stable, PreparingRebalance, Empty, ...) and its member count. */
  state: string;
  members: number;
  topic: string;
  partition: number;
  /** The group's committed offset (-1: none yet) and the partition's end. */
  committed: number;
  end: number;
  lag: number;
}

/**
 * Every partition a consumer group of the namespace has not consumed to its end, read from the
 * broker itself: where a soak's unconsumed events are (a group stuck on one partition, a group
 * without members, a retry topic still holding parked events) when the services log nothing.
 */
export async function consumerLag(brokers: string, namespace: string): Promise<PartitionLag[]> {
  const admin = new Kafka({ clientId: 'multipult-verify', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((groupId) => groupId.startsWith(namespace));
    if (!groups.length) return [];
    const described = new Map((await admin.describeGroups(groups)).groups.map((group) => [group.groupId, group]));
    const ends = new Map<string, Map<number, number>>();
    const endOf = async (topic: string, partition: number) => {
      if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((offsets) => [offsets.partition, Number(offsets.high)])));
      return ends.get(topic)?.get(partition) ?? 0;
    };
    const lagging: PartitionLag[] = [];
    for (const group of groups) {
      const description = described.get(group);
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group })) {
        for (const { partition, offset } of partitions) {
          const end = await endOf(topic, partition);
          const committed = Number(offset);
          const lag = end - Math.max(committed, 0);
          if (lag > 0) {
            lagging.push({
              group: group.slice(namespace.length),
              state: description?.state ?? 'unknown',
              members: description?.members.length ?? 0,
              topic: topic.slice(namespace.length),
              partition,
              committed,
              end,
              lag,
            });
          }
        }
      }
    }
    return lagging;
  } finally {
    await admin.disconnect();
  }
}

export function describeLag(rows: PartitionLag[]): string {
  return rows.map((row) => `${row.group} (${row.state}, ${row.members} members) ${row.topic}[${row.partition}] at ${row.committed} of ${row.end}`).join('; ');
}
