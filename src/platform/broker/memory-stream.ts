/**
 * The in-memory broker's stream: entries in id order, consumer groups with their pending entries
 * lists, and the blocked reads an append wakes — Redis' stream semantics as plain data.
 */
import type { ReclaimOptions, StreamEntry } from './broker.js';

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

export interface Group {
  lastDelivered: EntryId;
  /** When each consumer last tried to read or claim, ms since the epoch (Redis' seen-time). */
  consumers: Map<string, number>;
  /** By id; entries join in delivery order, which is id order, as in Redis' pending list. */
  pending: Map<string, PendingEntry>;
}

export interface Stream {
  kind: 'stream';
  entries: StoredEntry[];
  lastId: EntryId;
  groups: Map<string, Group>;
}

/** Blocked reads per stream key, woken in the order they started when an entry is appended. */
export type WaitingReaders = Map<string, Set<() => void>>;

export function createStream(): Stream {
  return { kind: 'stream', entries: [], lastId: { ms: 0, seq: 0 }, groups: new Map() };
}

/** XADD with an auto id (`<ms>-<seq>`, never below the last one) and an optional MAXLEN. */
export function appendEntry(
  target: Stream,
  fields: Record<string, string>,
  maxLen: number | undefined,
): string {
  const now = Date.now();
  const at =
    now > target.lastId.ms
      ? { ms: now, seq: 0 }
      : { ms: target.lastId.ms, seq: target.lastId.seq + 1 };
  const id = `${at.ms}-${at.seq}`;
  target.entries.push({ id, at, fields: { ...fields } });
  target.lastId = at;
  if (maxLen !== undefined && target.entries.length > maxLen) {
    target.entries.splice(0, target.entries.length - maxLen);
  }
  return id;
}

/**
 * Deletes what every group has read and acked: the entries before each group's oldest pending
 * one and up to what it last read. Returns how many went; a stream without groups keeps all.
 */
export function trimAcked(target: Stream): number {
  if (target.groups.size === 0) return 0;
  let keepFrom = target.entries.length;
  for (const group of target.groups.values()) {
    // The pending list is in id order (entries join it as delivered, and delivery is in order).
    const [oldestPending] = group.pending.keys();
    const at = oldestPending === undefined ? undefined : parseId(oldestPending);
    const firstKept =
      at === undefined
        ? firstAfter(target.entries, group.lastDelivered)
        : firstAfter(target.entries, { ms: at.ms, seq: at.seq - 1 });
    keepFrom = Math.min(keepFrom, firstKept);
  }
  target.entries.splice(0, keepFrom);
  return keepFrom;
}

/** XGROUP DELCONSUMER of each consumer holding nothing that has not read for `idleMs`. */
export function forgetIdleConsumers(consumerGroup: Group, idleMs: number): number {
  const holding = new Set([...consumerGroup.pending.values()].map((entry) => entry.consumer));
  const now = Date.now();
  let forgotten = 0;
  for (const [consumer, seenAt] of consumerGroup.consumers) {
    if (holding.has(consumer) || now - seenAt < idleMs) continue;
    consumerGroup.consumers.delete(consumer);
    forgotten++;
  }
  return forgotten;
}

/** XGROUP CREATE ... 0: a new group starts before the first entry. */
export function ensureGroup(target: Stream, group: string): void {
  if (!target.groups.has(group)) {
    target.groups.set(group, {
      lastDelivered: { ms: 0, seq: 0 },
      consumers: new Map(),
      pending: new Map(),
    });
  }
}

/** The `>` read: entries the group never delivered, now pending for `consumer`. */
export function deliverNew(
  target: Stream,
  consumerGroup: Group,
  consumer: string,
  count: number,
): StreamEntry[] {
  const now = Date.now();
  consumerGroup.consumers.set(consumer, now);
  const start = firstAfter(target.entries, consumerGroup.lastDelivered);
  const delivered = target.entries.slice(start, start + count);
  for (const entry of delivered) {
    consumerGroup.pending.set(entry.id, { consumer, deliveredAt: now, deliveries: 1 });
    consumerGroup.lastDelivered = entry.at;
  }
  return delivered.map(copyOf);
}

/** XAUTOCLAIM: pending entries idle at least `minIdleMs` move to `consumer`, oldest first. */
export function claimIdle(
  target: Stream,
  consumerGroup: Group,
  consumer: string,
  options: ReclaimOptions,
): StreamEntry[] {
  const now = Date.now();
  consumerGroup.consumers.set(consumer, now);
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
}

export function wakeReaders(readers: WaitingReaders, key: string): void {
  for (const wake of [...(readers.get(key) ?? [])]) wake();
}

/**
 * Blocks a read on stream `key` until an append lets `deliver` return entries, `blockMs` passes,
 * or the release added to `releases` is called (the broker closing); the last two answer `[]`.
 */
export function waitForAppend(
  readers: WaitingReaders,
  key: string,
  blockMs: number,
  deliver: () => StreamEntry[],
  releases: Set<() => void>,
): Promise<StreamEntry[]> {
  return new Promise((resolve) => {
    const waiting = readers.get(key) ?? new Set();
    readers.set(key, waiting);
    const finish = (entries: StreamEntry[]): void => {
      clearTimeout(timer);
      waiting.delete(onAppend);
      if (waiting.size === 0 && readers.get(key) === waiting) {
        readers.delete(key);
      }
      releases.delete(release);
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
    waiting.add(onAppend);
    releases.add(release);
  });
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
