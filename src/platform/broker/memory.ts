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

interface EntryId {
  ms: number;
  seq: number;
}

interface StoredEntry extends StreamEntry {
  at: EntryId;
}

interface PendingEntry {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

interface Group {
  lastDelivered: EntryId;
  /** By id; entries join in delivery order, which is id order, as in Redis' pending list. */
  pending: Map<string, PendingEntry>;
}

interface Stream {
  kind: 'stream';
  entries: StoredEntry[];
  lastId: EntryId;
  groups: Map<string, Group>;
}

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
  readonly readers = new Map<string, Set<() => void>>();
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
      const target = this.streamOf(stream, true);
      const now = Date.now();
      const at =
        now > target.lastId.ms
          ? { ms: now, seq: 0 }
          : { ms: target.lastId.ms, seq: target.lastId.seq + 1 };
      const id = `${at.ms}-${at.seq}`;
      target.entries.push({ id, at, fields: { ...fields } });
      target.lastId = at;
      if (options.maxLen !== undefined && target.entries.length > options.maxLen) {
        target.entries.splice(0, target.entries.length - options.maxLen);
      }
      for (const wake of [...(this.store.readers.get(this.key(stream)) ?? [])]) wake();
      return id;
    });
  }

  ensureGroup(stream: string, group: string): Promise<void> {
    return this.run(() => {
      const target = this.streamOf(stream, true);
      if (!target.groups.has(group)) {
        target.groups.set(group, { lastDelivered: { ms: 0, seq: 0 }, pending: new Map() });
      }
    });
  }

  readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    return this.run(() => {
      const deliver = (): StreamEntry[] => this.deliverNew(stream, group, consumer, options.count);
      const ready = deliver();
      if (ready.length > 0 || options.blockMs <= 0) return ready;
      return this.waitForAppend(stream, options.blockMs, deliver);
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
      const now = Date.now();
      const claimed: StreamEntry[] = [];
      for (const [id, entry] of consumerGroup.pending) {
        if (claimed.length >= options.count) break;
        if (now - entry.deliveredAt < options.minIdleMs) continue;
        const stored = findEntry(target.entries, id);
        if (stored === undefined) {
          // Trimmed while pending: Redis' XAUTOCLAIM drops it from the pending list too.
          consumerGroup.pending.delete(id);
          continue;
        }
        entry.consumer = consumer;
        entry.deliveredAt = now;
        entry.deliveries++;
        claimed.push(copyOf(stored));
      }
      return claimed;
    });
  }

  pending(stream: string, group: string): Promise<number> {
    return this.run(() => this.groupOf(stream, group)[1].pending.size);
  }

  streamLength(stream: string): Promise<number> {
    return this.run(() => this.streamOf(stream, false)?.entries.length ?? 0);
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
    const created: Stream = {
      kind: 'stream',
      entries: [],
      lastId: { ms: 0, seq: 0 },
      groups: new Map(),
    };
    this.store.values.set(this.key(stream), created);
    return created;
  }

  private groupOf(stream: string, group: string): [Stream, Group] {
    const target = this.streamOf(stream, false);
    const found = target?.groups.get(group);
    if (target === undefined || found === undefined) {
      throw new Error(`NOGROUP No such key '${this.key(stream)}' or consumer group '${group}'`);
    }
    return [target, found];
  }

  /** The `>` read: entries the group never delivered, now pending for `consumer`. */
  private deliverNew(
    stream: string,
    group: string,
    consumer: string,
    count: number,
  ): StreamEntry[] {
    const [target, consumerGroup] = this.groupOf(stream, group);
    const now = Date.now();
    const start = firstAfter(target.entries, consumerGroup.lastDelivered);
    const delivered = target.entries.slice(start, start + count);
    for (const entry of delivered) {
      consumerGroup.pending.set(entry.id, { consumer, deliveredAt: now, deliveries: 1 });
      consumerGroup.lastDelivered = entry.at;
    }
    return delivered.map(copyOf);
  }

  private waitForAppend(
    stream: string,
    blockMs: number,
    deliver: () => StreamEntry[],
  ): Promise<StreamEntry[]> {
    const key = this.key(stream);
    return new Promise((resolve) => {
      const readers = this.store.readers.get(key) ?? new Set();
      this.store.readers.set(key, readers);
      const finish = (entries: StreamEntry[]): void => {
        clearTimeout(timer);
        readers.delete(onAppend);
        if (readers.size === 0 && this.store.readers.get(key) === readers) {
          this.store.readers.delete(key);
        }
        this.blockedReads.delete(release);
        resolve(entries);
      };
      const onAppend = (): void => {
        const entries = deliver();
        if (entries.length > 0) finish(entries);
      };
      const release = (): void => {
        finish([]);
      };
      const timer = setTimeout(release, blockMs);
      readers.add(onAppend);
      this.blockedReads.add(release);
    });
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

function compareIds(a: EntryId, b: EntryId): number {
  return a.ms - b.ms || a.seq - b.seq;
}

function parseId(id: string): EntryId | undefined {
  const match = /^(\d+)-(\d+)$/.exec(id);
  return match ? { ms: Number(match[1]), seq: Number(match[2]) } : undefined;
}

/** Index of the first entry with an id above `after` (entries are in id order). */
function firstAfter(entries: readonly StoredEntry[], after: EntryId): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = entries[middle];
    if (entry !== undefined && compareIds(entry.at, after) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function findEntry(entries: readonly StoredEntry[], id: string): StoredEntry | undefined {
  const at = parseId(id);
  if (at === undefined) return undefined;
  const candidate = entries[firstAfter(entries, { ms: at.ms, seq: at.seq - 1 })];
  return candidate?.id === id ? candidate : undefined;
}

function copyOf(entry: StoredEntry): StreamEntry {
  return { id: entry.id, fields: { ...entry.fields } };
}
