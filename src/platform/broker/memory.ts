/**
 * The embedded broker for `agora up` without Redis: the same semantics as the Redis driver
 * (ids, consumer groups with pending entries, blocking reads, pub/sub) inside one process.
 */
import { BrokerUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  AppendOptions,
  Broker,
  ReadGroupOptions,
  ReclaimOptions,
  StreamEntry,
  Unsubscribe,
} from './broker.js';
import { NoGroupError } from './errors.js';
import {
  appendEntry,
  claimIdle,
  createStream,
  deliverNew,
  ensureGroup,
  forgetIdleConsumers,
  type Group,
  type Stream,
  trimAcked,
  waitForAppend,
  type WaitingReaders,
  wakeReaders,
} from './memory-stream.js';

type StoredValue = { kind: 'counter'; value: number } | { kind: 'list'; items: string[] } | Stream;

interface Subscription {
  onMessage: (message: string) => void;
}

/**
 * The data behind one or more MemoryBrokers. Brokers opened on one store share its keys, groups
 * and channels, as clients of one Redis do (e.g. a consumer that dies and one that takes over);
 * each broker still closes on its own.
 */
export class MemoryStore {
  readonly values = new Map<string, StoredValue>();
  /** Blocked reads per stream, woken in the order they started when an entry is appended. */
  readonly readers: WaitingReaders = new Map();
  readonly channels = new Map<string, Set<Subscription>>();
}

export interface MemoryBrokerOptions {
  /** Prepended to every key, stream and channel name, as the Redis driver does. */
  keyPrefix?: string;
  /** Share data with other brokers; each broker gets a store of its own by default. */
  store?: MemoryStore;
  /** Where a subscriber that throws is reported. */
  logger?: Logger;
}

const wrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';

export class MemoryBroker implements Broker {
  readonly driver = 'memory';
  readonly location = 'in-process';
  private readonly prefix: string;
  private readonly store: MemoryStore;
  private readonly logger: Logger | undefined;
  private closed = false;
  private readonly blockedReads = new Set<() => void>();
  private readonly subscriptions = new Map<Subscription, string>();

  constructor(options: MemoryBrokerOptions = {}) {
    this.prefix = options.keyPrefix ?? '';
    this.store = options.store ?? new MemoryStore();
    this.logger = options.logger;
  }

  incr(key: string, by = 1): Promise<number> {
    return this.run(() => {
      if (!Number.isSafeInteger(by)) throw new Error('ERR value is not an integer or out of range');
      const counter = this.valueOf(key, 'counter') ?? { kind: 'counter', value: 0 };
      counter.value += by;
      this.store.values.set(this.key(key), counter);
      return counter.value;
    });
  }

  counter(key: string): Promise<number> {
    return this.run(() => this.valueOf(key, 'counter')?.value ?? 0);
  }

  append(
    stream: string,
    fields: Record<string, string>,
    options: AppendOptions = {},
  ): Promise<string> {
    return this.run(() => {
      // Refused before the stream is made, as Redis refuses it before touching the key.
      if (Object.keys(fields).length === 0) {
        throw new Error('an appended entry needs at least one field');
      }
      const id = appendEntry(this.streamOf(stream, true), fields, options.maxLen);
      wakeReaders(this.store.readers, this.key(stream));
      return id;
    });
  }

  ensureGroup(stream: string, group: string): Promise<void> {
    return this.run(() => {
      ensureGroup(this.streamOf(stream, true), group);
    });
  }

  readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    return this.run(() => {
      const deliver = (): StreamEntry[] => {
        const [target, consumerGroup] = this.groupOf(stream, group);
        return deliverNew(target, consumerGroup, consumer, options.count);
      };
      const ready = deliver();
      if (ready.length > 0 || options.blockMs <= 0) return ready;
      const key = this.key(stream);
      return waitForAppend(this.store.readers, key, options.blockMs, deliver, this.blockedReads);
    });
  }

  ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    return this.run(() => {
      const pending = this.streamOf(stream, false)?.groups.get(group)?.pending;
      let acked = 0;
      for (const id of ids) if (pending?.delete(id)) acked++;
      return acked;
    });
  }

  reclaim(
    stream: string,
    group: string,
    consumer: string,
    options: ReclaimOptions,
  ): Promise<StreamEntry[]> {
    return this.run(() => {
      const [target, consumerGroup] = this.groupOf(stream, group);
      return claimIdle(target, consumerGroup, consumer, options);
    });
  }

  pending(stream: string, group: string): Promise<number> {
    return this.run(() => this.groupOf(stream, group)[1].pending.size);
  }

  streamLength(stream: string): Promise<number> {
    return this.run(() => this.streamOf(stream, false)?.entries.length ?? 0);
  }

  trimAcked(stream: string): Promise<number> {
    return this.run(() => {
      const target = this.streamOf(stream, false);
      return target === undefined ? 0 : trimAcked(target);
    });
  }

  forgetIdleConsumers(stream: string, group: string, idleMs: number): Promise<number> {
    return this.run(() => forgetIdleConsumers(this.groupOf(stream, group)[1], idleMs));
  }

  publish(channel: string, message: string): Promise<void> {
    return this.run(() => {
      const subscribers = this.store.channels.get(this.key(channel));
      const recipients = [...(subscribers ?? [])];
      // Delivered on a later turn, as from Redis, and only to whoever is still subscribed then.
      setImmediate(() => {
        for (const subscription of recipients) {
          if (subscribers?.has(subscription)) this.deliver(subscription, channel, message);
        }
      });
    });
  }

  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    return this.run(() => {
      const name = this.key(channel);
      const subscription: Subscription = { onMessage };
      let subscribers = this.store.channels.get(name);
      if (subscribers === undefined) {
        subscribers = new Set();
        this.store.channels.set(name, subscribers);
      }
      subscribers.add(subscription);
      this.subscriptions.set(subscription, name);
      return () => {
        this.unsubscribe(subscription);
        return Promise.resolve();
      };
    });
  }

  pushRecent(key: string, item: string, maxItems: number): Promise<void> {
    return this.run(() => {
      const list = this.valueOf(key, 'list') ?? { kind: 'list', items: [] };
      list.items.unshift(item);
      list.items.length = Math.min(list.items.length, Math.max(maxItems, 0));
      this.store.values.set(this.key(key), list);
    });
  }

  recent(key: string, count: number): Promise<string[]> {
    return this.run(() => this.valueOf(key, 'list')?.items.slice(0, Math.max(count, 0)) ?? []);
  }

  ping(): Promise<void> {
    return this.run(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const release of [...this.blockedReads]) release();
    for (const subscription of [...this.subscriptions.keys()]) this.unsubscribe(subscription);
    return Promise.resolve();
  }

  /** Runs one command as Redis would answer it: later, and with every failure as a rejection. */
  private run<T>(command: () => T | Promise<T>): Promise<T> {
    try {
      if (this.closed) throw new BrokerUnavailableError(this.location);
      return Promise.resolve(command());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  private valueOf<K extends StoredValue['kind']>(
    key: string,
    kind: K,
  ): Extract<StoredValue, { kind: K }> | undefined {
    const value = this.store.values.get(this.key(key));
    if (value === undefined) return undefined;
    if (value.kind !== kind) throw new Error(wrongType);
    return value as Extract<StoredValue, { kind: K }>;
  }

  private streamOf(stream: string, create: true): Stream;
  private streamOf(stream: string, create: false): Stream | undefined;
  private streamOf(stream: string, create: boolean): Stream | undefined {
    const existing = this.valueOf(stream, 'stream');
    if (existing !== undefined || !create) return existing;
    const created = createStream();
    this.store.values.set(this.key(stream), created);
    return created;
  }

  private groupOf(stream: string, group: string): [Stream, Group] {
    const target = this.streamOf(stream, false);
    const found = target?.groups.get(group);
    if (target === undefined || found === undefined) throw new NoGroupError(stream, group);
    return [target, found];
  }

  private unsubscribe(subscription: Subscription): void {
    const name = this.subscriptions.get(subscription);
    if (name === undefined) return;
    this.subscriptions.delete(subscription);
    const subscribers = this.store.channels.get(name);
    subscribers?.delete(subscription);
    if (subscribers?.size === 0) this.store.channels.delete(name);
  }

  private deliver(subscription: Subscription, channel: string, message: string): void {
    try {
      subscription.onMessage(message);
    } catch (error) {
      this.logger?.error({ err: error, channel }, 'a broker subscriber failed');
    }
  }
}
