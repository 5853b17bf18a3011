/** The console's API as the page uses it: the live snapshot over SSE, and the actions. */
import { useEffect, useState } from 'react';

import type { Refusal } from '../../../src/console/refusals.js';
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

export type ActOutcome =
  | { ok: true }
  /** The console's reason as data where it gave one, else its (English) message. */
  | { ok: false; refusal: Refusal | undefined; message: string };

/** Sends an action with the token. */
export async function act(path: string, token: string, body?: unknown): Promise<ActOutcome> {
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return { ok: true };
  const answer = (await response.json().catch(() => ({}))) as {
    error?: { message?: string };
    refusal?: Refusal;
  };
  return {
    ok: false,
    refusal: answer.refusal,
    message: answer.error?.message ?? `HTTP ${response.status}`,
  };
}
