/**
 * The in-memory broker's stream: entries in id order, consumer groups with their pending entries
 * lists, and the blocked reads an append wakes — Redis' stream semantics as plain data.
 */
import type { ReclaimOptions, StreamEntry } from './broker.js';

export interface EntryId {
  ms: number;
  seq: number;
}

export interface StoredEntry extends StreamEntry {
  at: EntryId;
}

export interface PendingEntry {
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

/** The id XADD would give an entry now (`<ms>-<seq>`, never below the last one). */
export function nextId(target: Stream, now: number): string {
  const { ms, seq } = target.lastId;
  return now > ms ? `${now}-0` : `${ms}-${seq + 1}`;
}

/** XADD of an entry whose id was chosen by nextId (or read back from the log), then MAXLEN. */
export function addEntry(
  target: Stream,
  id: string,
  fields: Record<string, string>,
  maxLen: number | undefined,
): void {
  const at = idOf(id);
  target.entries.push({ id, at, fields: { ...fields } });
  target.lastId = at;
  if (maxLen !== undefined && target.entries.length > maxLen) {
    target.entries.splice(0, target.entries.length - maxLen);
  }
}

/**
 * How many entries, from the start, every group has read and acked: those before each group's
 * oldest pending one and up to what it last read. A stream without groups keeps all (0).
 */
export function acknowledgedPrefix(target: Stream): number {
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
  return keepFrom;
}

export function dropOldest(target: Stream, count: number): void {
  target.entries.splice(0, count);
}

/** The consumers XGROUP DELCONSUMER may drop: holding nothing, not read for `idleMs`. */
export function idleConsumers(consumerGroup: Group, idleMs: number, now: number): string[] {
  const holding = new Set([...consumerGroup.pending.values()].map((entry) => entry.consumer));
  const idle: string[] = [];
  for (const [consumer, seenAt] of consumerGroup.consumers) {
    if (!holding.has(consumer) && now - seenAt >= idleMs) idle.push(consumer);
  }
  return idle;
}

/** XGROUP CREATE ... 0: a new group starts before the first entry. */
export function createGroup(): Group {
  return { lastDelivered: { ms: 0, seq: 0 }, consumers: new Map(), pending: new Map() };
}

/** The entries a `>` read would deliver: those after what the group last delivered. */
export function undelivered(target: Stream, consumerGroup: Group, count: number): StoredEntry[] {
  const start = firstAfter(target.entries, consumerGroup.lastDelivered);
  return target.entries.slice(start, start + count);
}

/** How many entries a `>` read has yet to deliver to the group (XINFO GROUPS' lag). */
export function lagOf(target: Stream, consumerGroup: Group): number {
  return target.entries.length - firstAfter(target.entries, consumerGroup.lastDelivered);
}

/** Records a `>` read: the ids (in order) are now pending for `consumer`, seen at `now`. */
export function markDelivered(
  consumerGroup: Group,
  consumer: string,
  ids: readonly string[],
  now: number,
): void {
  consumerGroup.consumers.set(consumer, now);
  for (const id of ids) {
    consumerGroup.pending.set(id, { consumer, deliveredAt: now, deliveries: 1 });
    consumerGroup.lastDelivered = idOf(id);
  }
}

/**
 * What XAUTOCLAIM would do now: the pending entries idle at least `minIdleMs`, oldest first, to
 * take over, and those trimmed while pending, which it drops from the pending list.
 */
export function idleClaims(
  target: Stream,
  consumerGroup: Group,
  options: ReclaimOptions,
  now: number,
): { claimed: StoredEntry[]; dropped: string[] } {
  const claimed: StoredEntry[] = [];
  const dropped: string[] = [];
  for (const [id, entry] of consumerGroup.pending) {
    if (claimed.length >= options.count) break;
    if (now - entry.deliveredAt < options.minIdleMs) continue;
    const stored = findEntry(target.entries, id);
    if (stored === undefined) dropped.push(id);
    else claimed.push(stored);
  }
  return { claimed, dropped };
}

/** Records an XAUTOCLAIM: `claimed` move to `consumer` (idle clock restarted), `dropped` go. */
export function markClaimed(
  consumerGroup: Group,
  consumer: string,
  claimed: readonly string[],
  dropped: readonly string[],
  now: number,
): void {
  consumerGroup.consumers.set(consumer, now);
  for (const id of dropped) consumerGroup.pending.delete(id);
  for (const id of claimed) {
    const entry = consumerGroup.pending.get(id);
    if (entry === undefined) continue;
    entry.consumer = consumer;
    entry.deliveredAt = now;
    entry.deliveries++;
  }
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

/** `<ms>-<seq>` to its parts; the ids handled here are all well formed. */
export function idOf(id: string): EntryId {
  return parseId(id) ?? { ms: 0, seq: 0 };
}

export function formatId(at: EntryId): string {
  return `${at.ms}-${at.seq}`;
}

export function copyOf(entry: StreamEntry): StreamEntry {
  return { id: entry.id, fields: { ...entry.fields } };
}
