/**
 * The embedded broker for `agora up` without Redis: the same semantics as the Redis driver
 * (ids, consumer groups with pending entries, blocking reads, pub/sub) inside one process. Given
 * a data directory it keeps everything but pub/sub in an append-only log (see memory-log.ts).
 */
import { join } from 'node:path';

import { BrokerUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  AppendOptions,
  Broker,
  GroupInfo,
  ReadGroupOptions,
  ReclaimOptions,
  StreamEntry,
  Unsubscribe,
} from './broker.js';
import { NoGroupError, WrongTypeError } from './errors.js';
import { type FsyncPolicy, MemoryLog } from './memory-log.js';
import { applyRecord, type LogRecord, snapshotRecords, type StoredValue } from './memory-state.js';
import {
  acknowledgedPrefix,
  copyOf,
  createStream,
  type Group,
  idleClaims,
  idleConsumers,
  lagOf,
  nextId,
  type Stream,
  undelivered,
  waitForAppend,
  type WaitingReaders,
  wakeReaders,
} from './memory-stream.js';

interface Subscription {
  onMessage: (message: string) => void;
}

export interface PersistenceOptions {
  /** The data directory; the log is `<dataDir>/broker/broker.log`, beside PGlite's files. */
  dataDir: string;
  fsync?: FsyncPolicy;
  logger?: Logger;
  /** Rewrite the log once it is this big and twice what the last rewrite left (16 MiB). */
  compactAtBytes?: number;
}

/**
 * The data behind one or more MemoryBrokers. Brokers opened on one store share its keys, groups
 * and channels, as clients of one Redis do (e.g. a consumer that dies and one that takes over);
 * each broker still closes on its own. With persistence, it replays its log when made.
 */
export class MemoryStore {
  readonly values = new Map<string, StoredValue>();
  /** Blocked reads per stream, woken in the order they started when an entry is appended. */
  readonly readers: WaitingReaders = new Map();
  readonly channels = new Map<string, Set<Subscription>>();
  /** The log file, or `in-process` when nothing is kept. */
  readonly location: string;
  private readonly log: MemoryLog | undefined;

  constructor(persistence?: PersistenceOptions) {
    if (persistence === undefined) {
      this.location = 'in-process';
      return;
    }
    const { dataDir, fsync = 'always', logger, compactAtBytes } = persistence;
    const file = join(dataDir, 'broker', 'broker.log');
    this.log = MemoryLog.open(
      { file, fsync, logger, compactAtBytes, snapshot: () => snapshotRecords(this.values) },
      (record) => {
        applyRecord(this.values, record);
      },
    );
    this.location = file;
  }

  /** Changes the data and queues the change for the log. */
  apply(record: LogRecord): void {
    applyRecord(this.values, record);
    this.log?.write(record);
  }

  /** Resolves once every change so far is in the log (at once without one). */
  durable(): Promise<void> {
    return this.log?.durable() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.log?.close() ?? Promise.resolve();
  }
}

export interface MemoryBrokerOptions {
  /** Prepended to every key, stream and channel name, as the Redis driver does. */
  keyPrefix?: string;
  /** Share data with other brokers (the caller closes it); else the broker makes its own. */
  store?: MemoryStore;
  /** Keep the data in a log under this directory (for a store of the broker's own). */
  persistence?: PersistenceOptions;
  /** Where a subscriber that throws is reported. */
  logger?: Logger;
}

export class MemoryBroker implements Broker {
  readonly driver = 'memory';
  readonly location: string;
  private readonly prefix: string;
  private readonly store: MemoryStore;
  private readonly ownsStore: boolean;
  private readonly logger: Logger | undefined;
  private closed = false;
  private readonly blockedReads = new Set<() => void>();
  private readonly subscriptions = new Map<Subscription, string>();

  constructor(options: MemoryBrokerOptions = {}) {
    this.prefix = options.keyPrefix ?? '';
    this.ownsStore = options.store === undefined;
    this.store = options.store ?? new MemoryStore(options.persistence);
    this.location = this.store.location;
    this.logger = options.logger;
  }

  incr(key: string, by = 1): Promise<number> {
    return this.run(() => {
      if (!Number.isSafeInteger(by)) throw new Error('ERR value is not an integer or out of range');
      const value = (this.valueOf(key, 'counter')?.value ?? 0) + by;
      this.store.apply({ op: 'counter', key: this.key(key), value });
      return value;
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
      const key = this.key(stream);
      const id = nextId(this.streamOf(stream) ?? createStream(), Date.now());
      this.store.apply({ op: 'add', key, id, fields, maxLen: options.maxLen });
      wakeReaders(this.store.readers, key);
      return id;
    });
  }

  ensureGroup(stream: string, group: string): Promise<void> {
    return this.run(() => {
      if (this.streamOf(stream)?.groups.has(group) === true) return;
      this.store.apply({ op: 'group', key: this.key(stream), group });
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
        const entries = undelivered(target, consumerGroup, options.count);
        const at = Date.now();
        if (entries.length === 0 && consumerGroup.consumers.has(consumer)) {
          // Only the seen-time changes: not worth a record (after a restart it reads older).
          consumerGroup.consumers.set(consumer, at);
          return [];
        }
        const ids = entries.map((entry) => entry.id);
        this.store.apply({ op: 'deliver', key: this.key(stream), group, consumer, at, ids });
        return entries.map(copyOf);
      };
      const ready = deliver();
      if (ready.length > 0 || options.blockMs <= 0) return ready;
      const key = this.key(stream);
      return waitForAppend(this.store.readers, key, options.blockMs, deliver, this.blockedReads);
    });
  }

  ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    return this.run(() => {
      const pending = this.streamOf(stream)?.groups.get(group)?.pending;
      const acked = [...new Set(ids)].filter((id) => pending?.has(id) === true);
      if (acked.length > 0)
        this.store.apply({ op: 'ack', key: this.key(stream), group, ids: acked });
      return acked.length;
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
      const at = Date.now();
      const { claimed, dropped } = idleClaims(target, consumerGroup, options, at);
      const ids = claimed.map((entry) => entry.id);
      if (ids.length === 0 && dropped.length === 0 && consumerGroup.consumers.has(consumer)) {
        consumerGroup.consumers.set(consumer, at);
        return [];
      }
      const key = this.key(stream);
      this.store.apply({ op: 'claim', key, group, consumer, at, ids, dropped });
      return claimed.map(copyOf);
    });
  }

  pending(stream: string, group: string): Promise<number> {
    return this.run(() => this.groupOf(stream, group)[1].pending.size);
  }

  groupInfo(stream: string, group: string): Promise<GroupInfo> {
    return this.run(() => {
      const [target, consumerGroup] = this.groupOf(stream, group);
      return {
        pending: consumerGroup.pending.size,
        lag: lagOf(target, consumerGroup),
        consumers: consumerGroup.consumers.size,
      };
    });
  }

  streamLength(stream: string): Promise<number> {
    return this.run(() => this.streamOf(stream)?.entries.length ?? 0);
  }

  trimAcked(stream: string): Promise<number> {
    return this.run(() => {
      const target = this.streamOf(stream);
      const count = target === undefined ? 0 : acknowledgedPrefix(target);
      if (count > 0) this.store.apply({ op: 'trim', key: this.key(stream), count });
      return count;
    });
  }

  forgetIdleConsumers(stream: string, group: string, idleMs: number): Promise<number> {
    return this.run(() => {
      const consumers = idleConsumers(this.groupOf(stream, group)[1], idleMs, Date.now());
      if (consumers.length > 0) {
        this.store.apply({ op: 'forget', key: this.key(stream), group, consumers });
      }
      return consumers.length;
    });
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

  pushRecent(key: string, items: string | readonly string[], maxItems: number): Promise<void> {
    return this.run(() => {
      this.valueOf(key, 'list');
      for (const item of typeof items === 'string' ? [items] : items) {
        this.store.apply({ op: 'push', key: this.key(key), item, maxItems });
      }
    });
  }

  recent(key: string, count: number): Promise<string[]> {
    return this.run(() => this.valueOf(key, 'list')?.items.slice(0, Math.max(count, 0)) ?? []);
  }

  ping(): Promise<void> {
    return this.run(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const release of [...this.blockedReads]) release();
    for (const subscription of [...this.subscriptions.keys()]) this.unsubscribe(subscription);
    // What callers were already promised is written before the log closes.
    if (this.ownsStore) await this.store.close();
  }

  /**
   * Runs one command as Redis would answer it: later, with every failure as a rejection, and
   * only once what it changed (or read) is in the log, so no answer rests on data a crash loses.
   */
  private async run<T>(command: () => T | Promise<T>): Promise<T> {
    if (this.closed) throw new BrokerUnavailableError(this.location);
    let result: T;
    try {
      result = await command();
    } catch (error) {
      throw error instanceof Error ? error : new Error(String(error));
    }
    try {
      await this.store.durable();
    } catch (error) {
      throw new BrokerUnavailableError(this.location, error);
    }
    return result;
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
    if (value.kind !== kind) throw new WrongTypeError(key);
    return value as Extract<StoredValue, { kind: K }>;
  }

  private streamOf(stream: string): Stream | undefined {
    return this.valueOf(stream, 'stream');
  }

  private groupOf(stream: string, group: string): [Stream, Group] {
    const target = this.streamOf(stream);
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
