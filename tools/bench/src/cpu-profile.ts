import { writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';

/** A CPU profile over the Chrome DevTools protocol of a process started with --inspect. */
export async function startProfile(inspectPort: number): Promise<() => Promise<unknown>> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 1024 ** 3 });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let nextId = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ++nextId;
      const onMessage = (raw: WebSocket.RawData) => {
        const message = JSON.parse(String(raw)) as { id?: number; result: Record<string, unknown> };
        if (message.id !== id) return;
        socket.off('message', onMessage);
        resolve(message.result);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 200 });
  await call('Profiler.start');
  return async () => {
    const { profile } = await call('Profiler.stop');
    socket.close();
    return profile;
  };
}

export async function saveProfiles(dir: string | undefined, names: string[], suffix: string, stops: (() => Promise<unknown>)[]): Promise<void> {
  const profiles = await Promise.all(stops.map((stop) => stop()));
  if (dir) names.forEach((name, index) => writeFileSync(path.join(dir, `${name}${suffix}.cpuprofile`), JSON.stringify(profiles[index])));
}
