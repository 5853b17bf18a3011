/**
 * Reads stored ballots through the running election-api's verification routes: the way
 * `agora load election` checks the store whichever one the stack uses (an embedded PGlite
 * has one writer, the running stack, so the load process cannot open it).
 */
import { type Dispatcher, request } from 'undici';

import { describeStore } from '../../load/scenario.js';
import type { StoredBallots, SummaryDrift } from '../api/verify.js';
import { verifyIdsPerRequest } from '../api/verify.js';
import type { StoredBallotsReader, StoredRow } from './verify.js';

export function apiBallotsReader(
  apiUrl: URL,
  http: Dispatcher,
  signal: AbortSignal,
): StoredBallotsReader {
  let driver: string | undefined;
  const call = async <T extends { store: string }>(path: string, ids?: readonly string[]) => {
    const response = await request(new URL(path, apiUrl), {
      method: ids === undefined ? 'GET' : 'POST',
      dispatcher: http,
      signal,
      ...(ids === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids }) }),
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw new Error(
        `election-api ${path} answered ${response.statusCode}: ${text.slice(0, 200)}`,
      );
    }
    const body = (await response.body.json()) as T;
    driver = body.store;
    return body;
  };
  return {
    async read(ids) {
      const rows: StoredRow[] = [];
      for (let start = 0; start < ids.length; start += verifyIdsPerRequest) {
        const chunk = ids.slice(start, start + verifyIdsPerRequest);
        rows.push(...(await call<StoredBallots>('/api/verify/ballots', chunk)).ballots);
      }
      return rows;
    },
    async summaryDrift() {
      return (await call<SummaryDrift>('/api/verify/summaries')).drift;
    },
    async describe() {
      driver ??= (await call<SummaryDrift>('/api/verify/summaries')).store;
      return describeStore(driver, `election-api at ${apiUrl.href}`);
    },
  };
}
