import { Command } from 'commander';
import { gatewayConfig } from '../config';
import { GatewayClient } from '../gateway-client';
import { wholeNumber } from '../options';
import { Output } from '../output';
import { withProgress } from '../progress';
import { seedDemo } from '../seed/demo-seed';

export function registerSeedCommands(program: Command, output: Output): void {
  program
    .command('seed')
    .description('Fill a platform with data')
    .command('demo')
    .description(
      'Create demo users, one tenant (two from 4 users on), published documents in English, Russian and Tatar and comments with @mentions, through the gateway (GATEWAY_URL) like any client',
    )
    .option('--users <n>', 'how many users (the first own the tenants)', wholeNumber(1), 6)
    .option('--documents <n>', 'how many documents (each gets a comment)', wholeNumber(0), 12)
    .action(async (options: { users: number; documents: number }) => {
      const gateway = new GatewayClient(gatewayConfig().GATEWAY_URL);
      const report = await withProgress('seed', (bar) => seedDemo(gateway, { ...options, onProgress: (done, total, detail) => bar.update(done, total, detail) }));
      output(report);
    });
}
