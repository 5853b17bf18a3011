/**
 * The Redis broker driver (ioredis): one pipelined connection for commands, one for pub/sub,
 * and one per consumer for blocking stream reads. It reconnects forever and fails fast meanwhile.
 */
import type { Redis, RedisOptions } from 'ioredis';

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
import { AppendBatches, defineAppendCommand } from './redis-appends.js';
import { commandTimeoutMs, type Connection, openConnection } from './redis-connection.js';
import { entriesOfAutoClaim, entriesOfRead, groupInfoOf, pendingCountOf } from './redis-replies.js';
import { Subscriptions } from './redis-subscriptions.js';
import { defineUpkeepCommands, forgetIdleConsumers, trimAcked } from './redis-upkeep.js';

export interface RedisBrokerOptions {
  url: string;
  /** Prepended to every key, stream and channel name, e.g. `agora:`. */
  keyPrefix?: string;
  logger?: Logger;
}

/** Replies that mean "this server cannot serve you right now", not "your command is wrong". */
const unavailableReply = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

export class RedisBroker implements Broker {
  readonly driver = 'redis';
  readonly location: string;
  private readonly url: string;
  private readonly prefix: string;
  private readonly logger: Logger | undefined;
  private readonly main: Connection;
  private subscriber: Connection | undefined;
  private readonly blocking = new Map<string, Connection>();
  private readonly subscriptions: Subscriptions;
  private readonly appends: AppendBatches;
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
    defineAppendCommand(this.main.redis);
    defineUpkeepCommands(this.main.redis);
    this.appends = new AppendBatches((send) => this.command(send));
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
    this.subscriptions = new Subscriptions(
      {
        subscribe: (name) => this.onSubscriber((redis) => redis.subscribe(name)),
        unsubscribe: (name) => this.onSubscriber((redis) => redis.unsubscribe(name)),
        isClosing: () => this.closing !== undefined,
      },
      this.logger,
    );
  }

  incr(key: string, by = 1): Promise<number> {
    return this.command((redis) => redis.incrby(this.key(key), by));
  }

  async counter(key: string): Promise<number> {
    const value = await this.command((redis) => redis.get(this.key(key)));
    return value === null ? 0 : Number(value);
  }

  /** Appends made in one event-loop turn share one round trip (see redis-appends.ts). */
  append(
    stream: string,
    fields: Record<string, string>,
    options: AppendOptions = {},
  ): Promise<string> {
    return this.appends.add(this.key(stream), fields, options.maxLen);
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
        { stream, group },
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
      const reply = await this.command(
        (redis) =>
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
        this.main,
        { stream, group },
      );
      const page = entriesOfAutoClaim(reply);
      claimed.push(...page.entries);
      cursor = page.cursor;
    } while (cursor !== '0-0' && claimed.length < options.count);
    return claimed;
  }

  async pending(stream: string, group: string): Promise<number> {
    const reply = await this.command(
      (redis) => redis.call('XPENDING', this.key(stream), group),
      this.main,
      { stream, group },
    );
    return pendingCountOf(reply);
  }

  async groupInfo(stream: string, group: string): Promise<GroupInfo> {
    const reply = await this.command(
      (redis) => redis.call('XINFO', 'GROUPS', this.key(stream)),
      this.main,
      { stream, group },
    );
    const info = groupInfoOf(reply, group);
    if (info === undefined) throw new NoGroupError(stream, group);
    return info;
  }

  streamLength(stream: string): Promise<number> {
    return this.command((redis) => redis.xlen(this.key(stream)));
  }

  trimAcked(stream: string): Promise<number> {
    return this.command((redis) => trimAcked(redis, this.key(stream)));
  }

  forgetIdleConsumers(stream: string, group: string, idleMs: number): Promise<number> {
    return this.command(
      (redis) => forgetIdleConsumers(redis, this.key(stream), group, idleMs),
      this.main,
      { stream, group },
    );
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.command((redis) => redis.publish(this.key(channel), message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    this.subscriberConnection();
    return await this.subscriptions.add(this.key(channel), onMessage);
  }

  async pushRecent(
    key: string,
    items: string | readonly string[],
    maxItems: number,
  ): Promise<void> {
    const values = typeof items === 'string' ? [items] : [...items];
    if (values.length === 0) return;
    const list = this.key(key);
    // One LPUSH of all of them: Redis pushes its values in order, so the last ends on top.
    const results = await this.command((redis) =>
      redis
        .multi()
        .lpush(list, ...values)
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

  /** `group` names the stream and group a command reads, so a NOGROUP reply can say which. */
  private async command<T>(
    send: (redis: Redis) => Promise<T>,
    connection: Connection = this.main,
    group?: { stream: string; group: string },
  ): Promise<T> {
    this.assertOpen();
    // Only the very first attempt is waited for, so a command issued right after start-up
    // works; later, while disconnected, commands fail at once (no offline queue).
    if (connection.redis.status !== 'ready') await connection.firstAttempt;
    try {
      return await send(connection.redis);
    } catch (error) {
      throw this.failure(error, group);
    }
  }

  private async onSubscriber(send: (redis: Redis) => Promise<unknown>): Promise<void> {
    await this.command(send, this.subscriberConnection());
  }

  /**
   * Redis' verdicts on a command pass through, NOGROUP as NoGroupError and WRONGTYPE as
   * WrongTypeError (the one place that reads those replies); the rest means unavailable.
   */
  private failure(error: unknown, group?: { stream: string; group: string }): Error {
    if (error instanceof BrokerUnavailableError) return error;
    const isReply = error instanceof Error && error.name === 'ReplyError';
    if (isReply && group !== undefined && error.message.startsWith('NOGROUP')) {
      return new NoGroupError(group.stream, group.group, { cause: error });
    }
    // Within a script (the grouped appends) the reply may carry a prefix before the code.
    if (isReply && /\bWRONGTYPE\b/.test(error.message)) {
      return new WrongTypeError(undefined, { cause: error });
    }
    if (isReply && !unavailableReply.test(error.message)) return error;
    return new BrokerUnavailableError(this.location, this.connectionError ?? error);
  }

  private connect(role: string, options: RedisOptions): Connection {
    const connection = openConnection(this.url, role, options);
    if (role !== 'main') {
      connection.redis.on('error', (error: Error) => {
        this.logger?.debug({ broker: this.location, role, err: error.message }, 'broker error');
      });
    }
    return connection;
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
        this.subscriptions.deliver(channel, message);
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
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
