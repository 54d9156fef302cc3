import { Command } from 'commander';
import { reachableDatabaseUrl } from '../database';
import { Output } from '../output';
import { withProgress } from '../progress';
import { runServiceCli } from '../service-cli';

export function registerSearchCommands(program: Command, output: Output): void {
  program
    .command('search')
    .description('Maintain the content search index')
    .command('reindex')
    .description(
      'Recompute the search data of every document and translation, rebuild the indexes (concurrently, while serving) and drop cached results',
    )
    .action(async () => {
      await reachableDatabaseUrl();
      // The content service reindexes in one step: the bar shows it running and its duration.
      const report = await withProgress('reindex', async (bar) => {
        bar.update(0, 1, 'content');
        const result = await runServiceCli('content', ['reindex']);
        bar.update(1, 1, 'done');
        return result;
      });
      output(report);
    });
}
