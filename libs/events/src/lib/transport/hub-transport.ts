import { randomUUID } from 'node:crypto';
import { MessagePort } from 'node:worker_threads';
import { HubEndpoint } from '@multipult/embedded';
import { EventTransport, OutgoingMessage, ReceivedMessage, SubscribeOptions, Subscription } from './event-transport';

const CHANNEL = 'events';

type SubscriptionSpec = Pick<SubscribeOptions, 'groupId' | 'topics' | 'fromBeginning'>;

/**
 * A service worker's connection to the embedded launcher's one in-process bus: publishing and
 * subscribing go to the launcher, deliveries come back and are acknowledged by the handler's
 * outcome (a throw means redelivery, as with the in-process transport itself).
 */
export class HubEventTransport implements EventTransport {
  private readonly hub: HubEndpoint;
  private readonly handlers = new Map<string, { options: SubscribeOptions; stopping: AbortController }>();

  constructor(port: MessagePort) {
    this.hub = new HubEndpoint(port, CHANNEL).handle({
      deliver: async (subscriptionId: string, message: ReceivedMessage) => {
        const subscription = this.handlers.get(subscriptionId);
        if (!subscription) throw new Error(`subscription ${subscriptionId} has stopped`);
        await subscription.options.handler(message, { signal: subscription.stopping.signal, heartbeat: async () => undefined });
      },
    });
  }

  async connect(): Promise<void> {
    // The launcher's bus is always there.
  }

  publish(messages: OutgoingMessage[]): Promise<void> {
    return this.hub.call('publish', messages);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const subscriptionId = randomUUID();
    this.handlers.set(subscriptionId, { options, stopping: new AbortController() });
    const spec: SubscriptionSpec = { groupId: options.groupId, topics: options.topics, fromBeginning: options.fromBeginning };
    await this.hub.call('subscribe', subscriptionId, spec);
    return { stop: () => this.unsubscribe(subscriptionId) };
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.handlers.keys()].map((subscriptionId) => this.unsubscribe(subscriptionId)));
  }

  private async unsubscribe(subscriptionId: string): Promise<void> {
    const subscription = this.handlers.get(subscriptionId);
    if (!subscription) return;
    subscription.stopping.abort();
    this.handlers.delete(subscriptionId);
    await this.hub.call('unsubscribe', subscriptionId);
  }
}

/** The launcher's side: one bus for every worker; deliveries wait for the worker's handler. */
export function serveEventTransport(port: MessagePort, bus: EventTransport): void {
  const subscriptions = new Map<string, Subscription>();
  const hub: HubEndpoint = new HubEndpoint(port, CHANNEL).handle({
    publish: (messages: OutgoingMessage[]) => bus.publish(messages),
    subscribe: async (subscriptionId: string, spec: SubscriptionSpec) => {
      subscriptions.set(
        subscriptionId,
        await bus.subscribe({ ...spec, handler: (message) => hub.call('deliver', subscriptionId, message) }),
      );
    },
    unsubscribe: async (subscriptionId: string) => {
      await subscriptions.get(subscriptionId)?.stop();
      subscriptions.delete(subscriptionId);
    },
  });
}
