import net from 'node:net';
import { freePort, freePortBlock } from './service-process';

function bind(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePortBlock', () => {
  it('hands out consecutive bindable ports that no later freePort or block overlaps', async () => {
    const first = await freePortBlock(8);
    const block = Array.from({ length: 8 }, (_, offset) => first + offset);
    const servers = await Promise.all(block.map(bind));
    try {
      const second = await freePortBlock(8);
      expect(second + 8 <= first || second >= first + 8).toBe(true);
      const singles = await Promise.all(Array.from({ length: 50 }, () => freePort()));
      expect(singles.filter((port) => block.includes(port))).toEqual([]);
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
