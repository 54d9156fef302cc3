import { MessagePort, isMainThread, workerData } from 'node:worker_threads';

/**
 * The embedded mode (`npm start`) runs each service in its own worker thread of one process and
 * keeps the in-process stand-ins for Redis and Kafka in the main thread, so every service shares
 * them as it would share the real servers. Services reach them through a MessagePort handed over
 * in `workerData[HUB_WORKER_DATA_KEY]`.
 */
export const HUB_WORKER_DATA_KEY = 'multipultHub';

/** The hub port when this code runs in a service worker of the embedded launcher. */
export function embeddedHubPort(): MessagePort | undefined {
  if (isMainThread) return undefined;
  return (workerData as Record<string, MessagePort | undefined> | null)?.[HUB_WORKER_DATA_KEY];
}

interface HubRequest {
  channel: string;
  kind: 'request';
  id: number;
  method: string;
  args: unknown[];
}

interface HubResponse {
  channel: string;
  kind: 'response';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

type Handlers = Record<string, (...args: never[]) => unknown>;

/**
 * Request/response calls in both directions over one MessagePort, separated by channel so several
 * libraries can share the port. Arguments and results must be structured-cloneable.
 */
export class HubEndpoint {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private handlers: Handlers = {};

  constructor(
    private readonly port: MessagePort,
    private readonly channel: string,
  ) {
    port.on('message', (message: HubRequest | HubResponse) => {
      if (message?.channel !== channel) return;
      if (message.kind === 'response') this.settle(message);
      else void this.answer(message);
    });
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.port.postMessage({ channel: this.channel, kind: 'request', id, method, args } satisfies HubRequest);
    });
  }

  handle(handlers: Handlers): this {
    this.handlers = { ...this.handlers, ...handlers };
    return this;
  }

  private settle(response: HubResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (response.ok) pending.resolve(response.value);
    else pending.reject(new Error(response.error));
  }

  private async answer(request: HubRequest): Promise<void> {
    const reply = (fields: Pick<HubResponse, 'ok' | 'value' | 'error'>) =>
      this.port.postMessage({ channel: this.channel, kind: 'response', id: request.id, ...fields } satisfies HubResponse);
    const handler = this.handlers[request.method];
    if (!handler) return reply({ ok: false, error: `no handler for ${this.channel}.${request.method}` });
    try {
      reply({ ok: true, value: await (handler as (...args: unknown[]) => unknown)(...request.args) });
    } catch (error) {
      reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
