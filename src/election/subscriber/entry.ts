/**
 * A `ballots` stream entry as the subscriber stores it: field `ballot` holding the ballot's
 * JSON, checked like any untrusted ballot. An entry someone appended without an id gets one
 * derived from its stream id, so redelivering it stays idempotent.
 */
import type { StreamEntry } from '../../platform/broker/broker.js';
import type { ParsedEntry } from '../../platform/consumer/stream-consumer.js';
import { ValidationError } from '../../platform/errors.js';
import { type Ballot, parseBallot } from '../ballot.js';
import { ballotEntryField } from '../protocol.js';

export interface QueuedBallot {
  /** The stream entry id, acked once the ballot is committed. */
  entryId: string;
  ballot: Ballot;
}

/** Checks an entry as the gateway writes it (`ballotEntry()`); says why when it is not one. */
export function parseBallotEntry(entry: StreamEntry): ParsedEntry<QueuedBallot> {
  const raw = entry.fields[ballotEntryField];
  if (raw === undefined) return { ok: false, reason: `the field "${ballotEntryField}" is missing` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `"${ballotEntryField}" is not JSON: ${errorText(error)}` };
  }
  const withId =
    typeof json === 'object' && json !== null && !Array.isArray(json) && !hasId(json)
      ? { ...json, id: `stream-${entry.id}` }
      : json;
  try {
    return { ok: true, item: { entryId: entry.id, ballot: parseBallot(withId) } };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, reason: error.message };
    throw error;
  }
}

function hasId(json: object): boolean {
  const id = (json as { id?: unknown }).id;
  return id !== undefined && id !== null && id !== '';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
