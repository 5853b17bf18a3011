/** The console's API as the page uses it: the live snapshot over SSE, and the actions. */
import { useEffect, useState } from 'react';

import type { Snapshot } from '../../../src/console/snapshot.js';

export type { ProcessRow, QueueFigures, Snapshot } from '../../../src/console/snapshot.js';

export function useSnapshot(): { snapshot: Snapshot | undefined; live: boolean } {
  const [snapshot, setSnapshot] = useState<Snapshot>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/stream');
    source.addEventListener('snapshot', (event) => {
      setSnapshot(JSON.parse((event as MessageEvent<string>).data) as Snapshot);
      setLive(true);
    });
    source.onerror = () => {
      setLive(false);
    };
    return () => {
      source.close();
    };
  }, []);
  return { snapshot, live };
}

/** Sends an action with the token; resolves with the console's error message, if any. */
export async function act(
  path: string,
  token: string,
  body?: unknown,
): Promise<string | undefined> {
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return undefined;
  const answer = (await response.json()) as { error?: { message?: string } };
  return answer.error?.message ?? `HTTP ${response.status}`;
}
