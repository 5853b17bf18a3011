/**
 * The broker seam: counters, streams with consumer groups, pub/sub and capped lists.
 * Two drivers implement it (Redis and in-memory); services receive one and never build it.
 */

/** One stream entry: its id (`<ms>-<seq>`, as Redis assigns) and its string fields. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

export interface ReadGroupOptions {
  /** Most entries to return. */
  count: number;
  /** Wait up to this long for new entries when none are ready; 0 returns at once. */
  blockMs: number;
}

export interface ReclaimOptions {
  /** Only entries pending at least this long (since last delivery) are taken over. */
  minIdleMs: number;
  count: number;
}

export interface AppendOptions {
  /** Trim the stream to about this many entries (Redis `MAXLEN ~`). */
  maxLen?: number;
}

export type Unsubscribe = () => Promise<void>;

/** A consumer group as the console shows it (Redis `XINFO GROUPS`). */
export interface GroupInfo {
  /** Delivered but not yet acked. */
  pending: number;
  /** Entries in the stream the group has not been delivered yet. */
  lag: number;
  /** Consumers the group knows, live or not yet forgotten. */
  consumers: number;
}

export interface Broker {
  /** `redis` or `memory`, for status tables and logs. */
  readonly driver: 'redis' | 'memory';
  /** Where it points (a URL without password), for status tables and error messages. */
  readonly location: string;

  /** Atomically adds `by` (default 1) to a counter and returns the new value. */
  incr(key: string, by?: number): Promise<number>;
  /** A counter's current value; 0 when it was never set. */
  counter(key: string): Promise<number>;

  /**
   * Appends an entry (at least one field) and returns its id. The entry is durable in the
   * broker once this resolves; entries appended one after another keep that order.
   */
  append(stream: string, fields: Record<string, string>, options?: AppendOptions): Promise<string>;
  /** Creates the consumer group (and the stream) if missing; reads start at the stream's beginning. */
  ensureGroup(stream: string, group: string): Promise<void>;
  /**
   * Entries the group never delivered before (`>`), now pending for `consumer` until acked.
   * Rejects with NoGroupError when the group does not exist; a read still blocked when the broker
   * closes resolves with [].
   */
  readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]>;
  /** Acknowledges entries; returns how many were pending. */
  ack(stream: string, group: string, ids: readonly string[]): Promise<number>;
  /** Takes over entries pending longer than `minIdleMs` from any consumer (a dead one's). */
  reclaim(
    stream: string,
    group: string,
    consumer: string,
    options: ReclaimOptions,
  ): Promise<StreamEntry[]>;
  /** How many entries the group has delivered but not yet acked; NoGroupError without the group. */
  pending(stream: string, group: string): Promise<number>;
  /** The group's pending count, lag and consumers; NoGroupError without the group. */
  groupInfo(stream: string, group: string): Promise<GroupInfo>;
  /** How many entries the stream holds. */
  streamLength(stream: string): Promise<number>;
  /**
   * Deletes the entries every consumer group of the stream has read and acked: those older
   * than each group's oldest pending entry and than what it last read. Returns how many went;
   * a stream without groups is left whole. Consumers call it now and then so the queue holds
   * only work in progress.
   */
  trimAcked(stream: string): Promise<number>;
  /**
   * Deletes the group's consumers that hold no pending entry and have not tried to read for
   * `idleMs` (those of processes long gone), which otherwise pile up, a few per process start.
   * Returns how many; NoGroupError without the group.
   */
  forgetIdleConsumers(stream: string, group: string, idleMs: number): Promise<number>;

  /** Sends a notification to every current subscriber; nobody listening means it is dropped. */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `onMessage` for each later message on `channel`; the returned function stops it. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;

  /**
   * Pushes an item (or several, in order, so the last ends on top) to the front of a list kept
   * to at most `maxItems`, in one step.
   */
  pushRecent(key: string, items: string | readonly string[], maxItems: number): Promise<void>;
  /** The newest `count` items of a list, newest first. */
  recent(key: string, count: number): Promise<string[]>;

  /** Resolves when the broker answers; rejects with BrokerUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Idempotent; afterwards every method rejects with BrokerUnavailableError. */
  close(): Promise<void>;
}
