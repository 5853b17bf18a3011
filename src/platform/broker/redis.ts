/**
 * The Redis broker driver (ioredis): one pipelined connection for commands, one for pub/sub,
 * and one per consumer for blocking stream reads. It reconnects forever and fails fast meanwhile.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelay } from '../backoff.js';
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

export interface RedisBrokerOptions {
  url: string;
  /** Prepended to every key, stream and channel name, e.g. `agora:`. */
  keyPrefix?: string;
  logger?: Logger;
}

/** Also bounds how long a command issued before the first connection waits for it. */
const connectTimeoutMs = 2_000;
const commandTimeoutMs = 2_000;

/** Replies that mean "this server cannot serve you right now", not "your command is wrong". */
const unavailableReply = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

interface Connection {
  redis: Redis;
  /** Settles when the first connection attempt succeeds or fails. */
  firstAttempt: Promise<void>;
}

interface Subscription {
  onMessage: (message: string) => void;
}

interface Channel {
  subscriptions: Set<Subscription>;
  confirmed: Promise<void>;
}

export class RedisBroker implements Broker {
  readonly driver = 'redis';
  readonly location: string;
  private readonly url: string;
  private readonly prefix: string;
  private readonly logger: Logger | undefined;
  private readonly main: Connection;
  private subscriber: Connection | undefined;
  private readonly blocking = new Map<string, Connection>();
  private readonly channels = new Map<string, Channel>();
  private outage = false;
  /** Why the main connection last failed, to name in errors instead of ioredis' queue wording. */
  private connectionError: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RedisBrokerOptions) {
    this.url = options.url;
    this.prefix = options.keyPrefix ?? '';
    this.logger = options.logger;
    const location = new URL(options.url);
    location.password = '';
    this.location = location.href;
    this.main = this.connect('main', {
      enableAutoPipelining: true,
      commandTimeout: commandTimeoutMs,
      // A peer that vanished without closing the socket (no RST) is dropped and redialled.
      socketTimeout: commandTimeoutMs + 1_000,
    });
    this.main.redis.on('error', (error: Error) => {
      this.connectionError = error;
      this.markDown(error);
    });
    this.main.redis.on('close', () => {
      this.markDown();
    });
    this.main.redis.on('ready', () => {
      this.connectionError = undefined;
      if (!this.outage) return;
      this.outage = false;
      this.logger?.info({ broker: this.location }, 'broker reachable again');
    });
  }

  incr(key: string, by = 1): Promise<number> {
    return this.command((redis) => redis.incrby(this.key(key), by));
  }

  async counter(key: string): Promise<number> {
    const value = await this.command((redis) => redis.get(this.key(key)));
    return value === null ? 0 : Number(value);
  }

  async append(
    stream: string,
    fields: Record<string, string>,
    options: AppendOptions = {},
  ): Promise<string> {
    const trim = options.maxLen === undefined ? [] : ['MAXLEN', '~', options.maxLen];
    const reply = await this.command((redis) =>
      redis.call('XADD', this.key(stream), ...trim, '*', ...Object.entries(fields).flat()),
    );
    return stringOf(reply);
  }

  async ensureGroup(stream: string, group: string): Promise<void> {
    try {
      await this.command((redis) =>
        redis.call('XGROUP', 'CREATE', this.key(stream), group, '0', 'MKSTREAM'),
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return;
      throw error;
    }
  }

  async readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    this.assertOpen();
    const block = options.blockMs > 0 ? ['BLOCK', options.blockMs] : [];
    const args = ['GROUP', group, consumer, 'COUNT', options.count, ...block];
    const key = this.key(stream);
    const connection = options.blockMs > 0 ? this.blockingFor(key, group, consumer) : this.main;
    try {
      const reply = await this.command(
        (redis) => redis.call('XREADGROUP', ...args, 'STREAMS', key, '>'),
        connection,
      );
      return entriesOfRead(reply);
    } catch (error) {
      // close() cut the wait short, as the in-memory driver does.
      if (this.closing !== undefined && options.blockMs > 0) return [];
      throw error;
    }
  }

  ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.command((redis) => redis.xack(this.key(stream), group, ...ids));
  }

  async reclaim(
    stream: string,
    group: string,
    consumer: string,
    options: ReclaimOptions,
  ): Promise<StreamEntry[]> {
    const claimed: StreamEntry[] = [];
    let cursor = '0-0';
    // XAUTOCLAIM scans a bounded slice of the pending list per call; follow its cursor.
    do {
      const wanted = options.count - claimed.length;
      const reply = await this.command((redis) =>
        redis.call(
          'XAUTOCLAIM',
          this.key(stream),
          group,
          consumer,
          options.minIdleMs,
          cursor,
          'COUNT',
          wanted,
        ),
      );
      const page = entriesOfAutoClaim(reply);
      claimed.push(...page.entries);
      cursor = page.cursor;
    } while (cursor !== '0-0' && claimed.length < options.count);
    return claimed;
  }

  async pending(stream: string, group: string): Promise<number> {
    const reply = await this.command((redis) => redis.call('XPENDING', this.key(stream), group));
    return Array.isArray(reply) ? numberOf(reply[0]) : numberOf(reply);
  }

  streamLength(stream: string): Promise<number> {
    return this.command((redis) => redis.xlen(this.key(stream)));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.command((redis) => redis.publish(this.key(channel), message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const name = this.key(channel);
    const subscriber = this.subscriberConnection();
    let joined = this.channels.get(name);
    if (joined === undefined) {
      const confirmed = this.command((redis) => redis.subscribe(name), subscriber).then(
        () => undefined,
      );
      const created: Channel = { subscriptions: new Set(), confirmed };
      confirmed.catch(() => {
        if (this.channels.get(name) === created) this.channels.delete(name);
      });
      this.channels.set(name, created);
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
      if (channelState.subscriptions.size > 0 || this.channels.get(name) !== channelState) return;
      this.channels.delete(name);
      if (this.closing !== undefined) return;
      try {
        await this.command((redis) => redis.unsubscribe(name), subscriber);
      } catch (error) {
        // Nothing reaches the removed handler either way; while Redis is away the server has
        // already forgotten this connection's subscriptions.
        if (!(error instanceof BrokerUnavailableError)) throw error;
      }
    };
  }

  async pushRecent(key: string, item: string, maxItems: number): Promise<void> {
    const list = this.key(key);
    const results = await this.command((redis) =>
      redis
        .multi()
        .lpush(list, item)
        .ltrim(list, 0, maxItems - 1)
        .exec(),
    );
    const failure = results?.find(([error]) => error !== null)?.[0];
    if (failure) throw this.failure(failure);
  }

  recent(key: string, count: number): Promise<string[]> {
    if (count <= 0) return Promise.resolve([]);
    return this.command((redis) => redis.lrange(this.key(key), 0, count - 1));
  }

  async ping(): Promise<void> {
    await this.command((redis) => redis.ping());
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    for (const connection of this.blocking.values()) connection.redis.disconnect();
    this.subscriber?.redis.disconnect();
    const main = this.main.redis;
    if (main.status === 'ready') {
      try {
        // QUIT is answered after the commands already sent, so they still get their replies.
        await main.quit();
        return;
      } catch {
        // The connection dropped meanwhile; nothing is left to flush.
      }
    }
    main.disconnect();
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new BrokerUnavailableError(this.location);
  }

  private async command<T>(
    send: (redis: Redis) => Promise<T>,
    connection: Connection = this.main,
  ): Promise<T> {
    this.assertOpen();
    // Only the very first attempt is waited for, so a command issued right after start-up
    // works; later, while disconnected, commands fail at once (no offline queue).
    if (connection.redis.status !== 'ready') await connection.firstAttempt;
    try {
      return await send(connection.redis);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** Redis' verdicts on a command (WRONGTYPE, NOGROUP...) pass through; the rest: unavailable. */
  private failure(error: unknown): Error {
    if (error instanceof BrokerUnavailableError) return error;
    const isReply = error instanceof Error && error.name === 'ReplyError';
    if (isReply && !unavailableReply.test(error.message)) return error;
    return new BrokerUnavailableError(this.location, this.connectionError ?? error);
  }

  private connect(role: string, options: RedisOptions): Connection {
    const redis = new Redis(this.url, {
      connectionName: `agora-${role}`,
      connectTimeout: connectTimeoutMs,
      enableOfflineQueue: false,
      // In-flight commands are rejected when the connection drops instead of being resent.
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => backoffDelay(attempt - 1, { initialMs: 100, maxMs: 2_000 }),
      ...options,
    });
    if (role !== 'main') {
      redis.on('error', (error: Error) => {
        this.logger?.debug({ broker: this.location, role, err: error.message }, 'broker error');
      });
    }
    const firstAttempt = new Promise<void>((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        redis.off('ready', settle).off('close', settle).off('end', settle);
        resolve();
      };
      const timer = setTimeout(settle, connectTimeoutMs + commandTimeoutMs);
      redis.on('ready', settle).on('close', settle).on('end', settle);
    });
    return { redis, firstAttempt };
  }

  private blockingFor(stream: string, group: string, consumer: string): Connection {
    const id = `${stream}\n${group}\n${consumer}`;
    let connection = this.blocking.get(id);
    if (connection === undefined) {
      connection = this.connect('reader', {
        // No commandTimeout: a BLOCK may legitimately last longer. If the socket goes silent
        // without closing, ioredis gives up on the read this long after its BLOCK elapsed.
        blockingTimeout: 60_000,
        blockingTimeoutGrace: commandTimeoutMs,
      });
      this.blocking.set(id, connection);
    }
    return connection;
  }

  private subscriberConnection(): Connection {
    if (this.subscriber === undefined) {
      const subscriber = this.connect('subscriber', {});
      subscriber.redis.on('message', (channel: string, message: string) => {
        this.deliver(channel, message);
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: string): void {
    for (const subscription of this.channels.get(channel)?.subscriptions ?? []) {
      try {
        subscription.onMessage(message);
      } catch (error) {
        this.logger?.error({ err: error, channel }, 'a broker subscriber failed');
      }
    }
  }

  private markDown(error?: Error): void {
    if (this.outage || this.closing !== undefined) return;
    this.outage = true;
    this.logger?.warn(
      { broker: this.location, err: error?.message },
      'broker unreachable; reconnecting in the background',
    );
  }
}

function isList(reply: unknown): reply is unknown[] {
  return Array.isArray(reply);
}

function stringOf(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString();
  throw new Error(`Unexpected reply from Redis: ${JSON.stringify(reply)}`);
}

function numberOf(reply: unknown): number {
  return typeof reply === 'number' ? reply : Number(stringOf(reply));
}

/** `[id, [field, value, ...]]`; an entry deleted while pending comes back without fields. */
function entriesOf(reply: unknown): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const entry of isList(reply) ? reply : []) {
    if (!isList(entry) || !isList(entry[1])) continue;
    const flat = entry[1];
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      pairs.push([stringOf(flat[i]), stringOf(flat[i + 1])]);
    }
    entries.push({ id: stringOf(entry[0]), fields: Object.fromEntries(pairs) });
  }
  return entries;
}

/** XREADGROUP answers `[[stream, entries]]`, or nil when nothing came. */
function entriesOfRead(reply: unknown): StreamEntry[] {
  return isList(reply) && isList(reply[0]) ? entriesOf(reply[0][1]) : [];
}

/** XAUTOCLAIM answers `[next cursor, entries, deleted ids]`. */
function entriesOfAutoClaim(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  if (!isList(reply)) throw new Error(`Unexpected XAUTOCLAIM reply: ${JSON.stringify(reply)}`);
  return { cursor: stringOf(reply[0]), entries: entriesOf(reply[1]) };
}
