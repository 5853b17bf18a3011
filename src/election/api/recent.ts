/**
 * The "last 5 ballots" view, read from the Redis list the ingest writes after each commit.
 * The list is outside input as far as the API knows (another version may have written it),
 * so an item that does not match the shape is skipped rather than shown half.
 */
import { Value } from 'typebox/value';

import type { Broker } from '../../platform/broker/broker.js';
import { recentBallotsCount, recentBallotsKey } from '../protocol.js';
import { type RecentBallot, recentBallot } from './schemas.js';

export async function readRecentBallots(broker: Broker): Promise<RecentBallot[]> {
  const items = await broker.recent(recentBallotsKey, recentBallotsCount);
  return items.flatMap((item) => {
    const ballot = parseRecent(item);
    return ballot === undefined ? [] : [ballot];
  });
}

function parseRecent(item: string): RecentBallot | undefined {
  let value: unknown;
  try {
    value = JSON.parse(item);
  } catch {
    return undefined;
  }
  if (typeof value === 'object' && value !== null && !('receivedAt' in value)) {
    value = { ...value, receivedAt: null };
  }
  if (!Value.Check(recentBallot, value)) return undefined;
  const { id, sede, municipio, departamento, papeleta, partido, route, receivedAt } = value;
  return { id, sede, municipio, departamento, papeleta, partido, route, receivedAt };
}
