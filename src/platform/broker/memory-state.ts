/**
 * The embedded broker's data, and the records that change it. Every command that changes data
 * is decided first (ids, times, who gets what) and then applied as a record: the same record is
 * what the log keeps, so replaying the log at start rebuilds exactly what the commands built.
 */
import {
  addEntry,
  createGroup,
  createStream,
  dropOldest,
  formatId,
  type Group,
  idOf,
  markClaimed,
  markDelivered,
  type Stream,
} from './memory-stream.js';

export type StoredValue =
  { kind: 'counter'; value: number } | { kind: 'list'; items: string[] } | Stream;

/** Keys are the store's full names (prefix included), as the broker holds them. */
export type LogRecord =
  | { op: 'counter'; key: string; value: number }
  | { op: 'push'; key: string; item: string; maxItems: number }
  | { op: 'add'; key: string; id: string; fields: Record<string, string>; maxLen?: number }
  | { op: 'group'; key: string; group: string }
  | { op: 'deliver'; key: string; group: string; consumer: string; at: number; ids: string[] }
  | {
      op: 'claim';
      key: string;
      group: string;
      consumer: string;
      at: number;
      ids: string[];
      dropped: string[];
    }
  | { op: 'ack'; key: string; group: string; ids: string[] }
  | { op: 'trim'; key: string; count: number }
  | { op: 'forget'; key: string; group: string; consumers: string[] }
  // Written only by a compaction, which states what is left instead of how it came to be.
  | { op: 'list'; key: string; items: string[] }
  | { op: 'stream'; key: string; lastId: string }
  | {
      op: 'groupState';
      key: string;
      group: string;
      lastDelivered: string;
      consumers: [name: string, seenAt: number][];
      /** In pending-list order: id, consumer, delivered at, deliveries. */
      pending: [id: string, consumer: string, deliveredAt: number, deliveries: number][];
    };

const operations = new Set<string>([
  'counter',
  'push',
  'add',
  'group',
  'deliver',
  'claim',
  'ack',
  'trim',
  'forget',
  'list',
  'stream',
  'groupState',
]);

/** A record read back from the log (its checksum already matched); undefined if unknown. */
export function recordOf(value: unknown): LogRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { op, key } = value as { op?: unknown; key?: unknown };
  if (typeof op !== 'string' || !operations.has(op) || typeof key !== 'string') return undefined;
  return value as LogRecord;
}

/** Applies one record to the data; throws if it does not fit (a log out of step with itself). */
export function applyRecord(values: Map<string, StoredValue>, record: LogRecord): void {
  switch (record.op) {
    case 'counter':
      values.set(record.key, { kind: 'counter', value: record.value });
      return;
    case 'push': {
      const list = listAt(values, record.key);
      list.items.unshift(record.item);
      list.items.length = Math.min(list.items.length, Math.max(record.maxItems, 0));
      return;
    }
    case 'list':
      values.set(record.key, { kind: 'list', items: [...record.items] });
      return;
    case 'stream':
      streamAt(values, record.key).lastId = idOf(record.lastId);
      return;
    case 'add':
      addEntry(streamAt(values, record.key), record.id, record.fields, record.maxLen);
      return;
    case 'group': {
      const target = streamAt(values, record.key);
      if (!target.groups.has(record.group)) target.groups.set(record.group, createGroup());
      return;
    }
    case 'groupState': {
      const group = createGroup();
      group.lastDelivered = idOf(record.lastDelivered);
      for (const [name, seenAt] of record.consumers) group.consumers.set(name, seenAt);
      for (const [id, consumer, deliveredAt, deliveries] of record.pending) {
        group.pending.set(id, { consumer, deliveredAt, deliveries });
      }
      streamAt(values, record.key).groups.set(record.group, group);
      return;
    }
    case 'deliver':
      markDelivered(groupAt(values, record), record.consumer, record.ids, record.at);
      return;
    case 'claim':
      markClaimed(groupAt(values, record), record.consumer, record.ids, record.dropped, record.at);
      return;
    case 'ack': {
      const pending = groupAt(values, record).pending;
      for (const id of record.ids) pending.delete(id);
      return;
    }
    case 'trim':
      dropOldest(streamAt(values, record.key), record.count);
      return;
    case 'forget': {
      const consumers = groupAt(values, record).consumers;
      for (const name of record.consumers) consumers.delete(name);
      return;
    }
  }
}

/** The fewest records that rebuild `values` as they are now: what a compaction writes. */
export function* snapshotRecords(values: ReadonlyMap<string, StoredValue>): Generator<LogRecord> {
  for (const [key, value] of values) {
    if (value.kind === 'counter') {
      yield { op: 'counter', key, value: value.value };
    } else if (value.kind === 'list') {
      yield { op: 'list', key, items: value.items };
    } else {
      for (const entry of value.entries)
        yield { op: 'add', key, id: entry.id, fields: entry.fields };
      // After the entries, since each add moves lastId to its own id; it also makes an empty stream.
      yield { op: 'stream', key, lastId: formatId(value.lastId) };
      for (const [group, state] of value.groups) yield groupStateOf(key, group, state);
    }
  }
}

function groupStateOf(key: string, group: string, state: Group): LogRecord {
  return {
    op: 'groupState',
    key,
    group,
    lastDelivered: formatId(state.lastDelivered),
    consumers: [...state.consumers],
    pending: [...state.pending].map(([id, entry]) => [
      id,
      entry.consumer,
      entry.deliveredAt,
      entry.deliveries,
    ]),
  };
}

function listAt(values: Map<string, StoredValue>, key: string): { items: string[] } {
  const existing = values.get(key);
  if (existing?.kind === 'list') return existing;
  if (existing !== undefined) throw new Error(`${key} is not a list`);
  const created = { kind: 'list' as const, items: [] };
  values.set(key, created);
  return created;
}

function streamAt(values: Map<string, StoredValue>, key: string): Stream {
  const existing = values.get(key);
  if (existing?.kind === 'stream') return existing;
  if (existing !== undefined) throw new Error(`${key} is not a stream`);
  const created = createStream();
  values.set(key, created);
  return created;
}

function groupAt(values: Map<string, StoredValue>, record: { key: string; group: string }): Group {
  const group = streamAt(values, record.key).groups.get(record.group);
  if (group === undefined) throw new Error(`${record.key} has no group ${record.group}`);
  return group;
}
