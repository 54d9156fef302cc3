import { Command } from 'commander';
import { kafkaConfig } from '../config';
import { DeadLetters } from '../dlq/dead-letters';
import { wholeNumber } from '../options';
import { Output } from '../output';
import { withProgress } from '../progress';

export function registerDlqCommands(program: Command, output: Output): void {
  const dlq = program
    .command('dlq')
    .description('Dead-letter topics (<topic>.dlq): messages consumers gave up on (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX)');
  dlq
    .command('inspect')
    .description(
      'List the messages of <topic>.dlq (offset, key, event id and type, error, attempts, original topic, whether replayed) without consuming them for anyone',
    )
    .argument('<topic>', 'the original topic, e.g. auth.user.v1')
    .action(async (topic: string) => {
      for (const letter of await new DeadLetters(kafkaConfig()).inspect(topic)) output(letter);
    });
  dlq
    .command('replay')
    .description(
      'Produce the messages of <topic>.dlq not replayed yet back to <topic>: the consumer that failed handles them, the others skip them by event id; the replay group’s committed offsets record what was replayed',
    )
    .argument('<topic>', 'the original topic, e.g. auth.user.v1')
    .option('--limit <n>', 'replay at most this many messages (default: all)', wholeNumber(1))
    .action(async (topic: string, options: { limit?: number }) => {
      const limit = options.limit ?? Number.POSITIVE_INFINITY;
      const report = await withProgress('replay', (bar) => new DeadLetters(kafkaConfig()).replay(topic, limit, (done, total) => bar.update(done, total)));
      for (const letter of report.replayed) output(letter);
      output({ dlqTopic: report.dlqTopic, replayed: report.replayed.length, remaining: report.remaining });
    });
}
