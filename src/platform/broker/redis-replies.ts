/**
 * Reads the Redis driver's raw stream replies (XREADGROUP, XAUTOCLAIM, XPENDING) into typed values.
 */
import type { StreamEntry } from './broker.js';

function isList(reply: unknown): reply is unknown[] {
  return Array.isArray(reply);
}

export function stringOf(reply: unknown): string {
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
    // Filled in place: a worker reads thousands of entries per batch, and building pairs for
    // Object.fromEntries was a twelfth of its CPU (bench/voting, (b)).
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = stringOf(flat[i]);
      const value = stringOf(flat[i + 1]);
      // Assigning `__proto__` would set the prototype, not a field: defined like any other.
      if (name === '__proto__') {
        Object.defineProperty(fields, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        fields[name] = value;
      }
    }
    entries.push({ id: stringOf(entry[0]), fields });
  }
  return entries;
}

/** XREADGROUP answers `[[stream, entries]]`, or nil when nothing came. */
export function entriesOfRead(reply: unknown): StreamEntry[] {
  return isList(reply) && isList(reply[0]) ? entriesOf(reply[0][1]) : [];
}

/** XAUTOCLAIM answers `[next cursor, entries, deleted ids]`. */
export function entriesOfAutoClaim(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  if (!isList(reply)) throw new Error(`Unexpected XAUTOCLAIM reply: ${JSON.stringify(reply)}`);
  return { cursor: stringOf(reply[0]), entries: entriesOf(reply[1]) };
}

/** The summary form of XPENDING answers `[count, lowest id, highest id, consumers]`. */
export function pendingCountOf(reply: unknown): number {
  return isList(reply) ? numberOf(reply[0]) : numberOf(reply);
}

/**
 * One group of an `XINFO GROUPS` reply (a list of flat field lists). Redis before 7 has no
 * `lag`: then it is undefined here and the caller shows none.
 */
export function groupInfoOf(
  reply: unknown,
  group: string,
): { pending: number; lag: number; consumers: number } | undefined {
  for (const flat of isList(reply) ? reply : []) {
    if (!isList(flat)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(stringOf(flat[i]), flat[i + 1]);
    if (stringOf(fields.get('name')) !== group) continue;
    const lag = fields.get('lag');
    return {
      pending: numberOf(fields.get('pending')),
      // A nil lag means Redis cannot tell (entries deleted mid-way): report none as 0.
      lag: lag === null || lag === undefined ? 0 : numberOf(lag),
      consumers: numberOf(fields.get('consumers')),
    };
  }
  return undefined;
}
