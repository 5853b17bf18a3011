/**
 * The Redis driver's pub/sub fan-out: one subscriber connection serves every local handler; a
 * channel is subscribed on the server by its first handler and left when its last one goes.
 */
import { BrokerUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Unsubscribe } from './broker.js';

/** What the fan-out asks of the subscriber connection. */
export interface SubscriberCommands {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Once the broker closes, its connections drop and take their subscriptions with them. */
  isClosing(): boolean;
}

interface Subscription {
  onMessage: (message: string) => void;
}

interface Channel {
  subscriptions: Set<Subscription>;
  confirmed: Promise<void>;
}

export class Subscriptions {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly server: SubscriberCommands,
    private readonly logger: Logger | undefined,
  ) {}

  /** Adds a handler for `channel` (a full, prefixed name) once the server confirms it. */
  async add(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    let joined = this.channels.get(channel);
    if (joined === undefined) {
      const confirmed = this.server.subscribe(channel);
      const created: Channel = { subscriptions: new Set(), confirmed };
      confirmed.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
      this.channels.set(channel, created);
      joined = created;
    }
    const channelState = joined;
    const subscription: Subscription = { onMessage };
    channelState.subscriptions.add(subscription);
    try {
      await channelState.confirmed;
    } catch (error) {
      channelState.subscriptions.delete(subscription);
      throw error;
    }
    return async () => {
      if (!channelState.subscriptions.delete(subscription)) return;
      if (channelState.subscriptions.size > 0 || this.channels.get(channel) !== channelState) {
        return;
      }
      this.channels.delete(channel);
      if (this.server.isClosing()) return;
      try {
        await this.server.unsubscribe(channel);
      } catch (error) {
        // Nothing reaches the removed handler either way; while Redis is away the server has
        // already forgotten this connection's subscriptions.
        if (!(error instanceof BrokerUnavailableError)) throw error;
      }
    };
  }

  /** Hands a message from the subscriber connection to every handler of its channel. */
  deliver(channel: string, message: string): void {
    for (const subscription of this.channels.get(channel)?.subscriptions ?? []) {
      try {
        subscription.onMessage(message);
      } catch (error) {
        this.logger?.error({ err: error, channel }, 'a broker subscriber failed');
      }
    }
  }
}
