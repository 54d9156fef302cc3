import Redis from 'ioredis';
import { freePort } from '@multipult/testing';

const mode = process.env.SCRATCH_MODE;
it('redis down close', async () => {
  console.log('start', process.getActiveResourcesInfo());
  if (mode !== 'baseline') {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 2, connectTimeout: mode === 'noct' ? undefined : 5000 });
    client.on('error', () => undefined);
    await client.ping().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    client.disconnect();
  } else await new Promise((r) => setTimeout(r, 1000));
  console.log('end', process.getActiveResourcesInfo());
}, 60_000);
