import { Platform } from './platform';
import { PlatformPool } from './platform-pool';

/** A platform stand-in that records its life; the pool only boots, lends and stops platforms. */
function recordingStarter(log: string[]) {
  let boots = 0;
  return (name: string) => async (): Promise<Platform> => {
    boots += 1;
    const id = `${name}#${boots}`;
    log.push(`boot ${id}`);
    return {
      gatewayUrl: `http://gateway/${id}`,
      stop: async () => void log.push(`stop ${id}`),
      kill: () => void log.push(`kill ${id}`),
    } as unknown as Platform;
  };
}

describe('PlatformPool', () => {
  it('boots a configuration once for every file that asks, and never lets a file stop it', async () => {
    const log: string[] = [];
    const start = recordingStarter(log);
    const pool = new PlatformPool({ default: start('default') });
    const [first, second] = await Promise.all([pool.acquire('default'), pool.acquire('default')]);
    const third = await pool.acquire('default');
    expect([first.gatewayUrl, second.gatewayUrl, third.gatewayUrl]).toEqual(Array(3).fill('http://gateway/default#1'));
    await expect(first.stop()).rejects.toThrow('stopped by the pool');
    await pool.stopAll();
    expect(log).toEqual(['boot default#1', 'stop default#1']);
    expect(pool.boots.map((boot) => boot.name)).toEqual(['default']);
  });

  it('keeps at most maxAlive platforms, stopping the least recently used before booting another', async () => {
    const log: string[] = [];
    const start = recordingStarter(log);
    const pool = new PlatformPool({ a: start('a'), b: start('b'), c: start('c') }, 2);
    await pool.acquire('a');
    await pool.acquire('b');
    await pool.acquire('a');
    await pool.acquire('c');
    expect(log).toEqual(['boot a#1', 'boot b#2', 'stop b#2', 'boot c#3']);
    pool.killAll();
    expect(log.slice(4).sort()).toEqual(['kill a#1', 'kill c#3']);
    await pool.stopAll();
    expect(log.slice(6).sort()).toEqual(['stop a#1', 'stop c#3']);
  });

  it('forgets a failed boot so the next file tries again, and names unknown configurations', async () => {
    let attempts = 0;
    const pool = new PlatformPool({
      flaky: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('port taken');
        return { gatewayUrl: 'http://gateway/flaky', stop: async () => undefined, kill: () => undefined } as unknown as Platform;
      },
    });
    await expect(pool.acquire('flaky')).rejects.toThrow('port taken');
    await expect(pool.acquire('flaky')).resolves.toMatchObject({ gatewayUrl: 'http://gateway/flaky' });
    await expect(pool.acquire('missing')).rejects.toThrow('no platform configuration named missing (known: flaky)');
    await pool.stopAll();
  });
});
