/**
 * The live summary from election-api's SSE stream, and a `version` that moves (at most twice a
 * second) whenever the stored total changes, for the views to reload on. EventSource
 * reconnects by itself; `connected` says whether the stream is up.
 */
import { useEffect, useRef, useState } from 'react';

import type { Summary } from './api.js';

const minReloadMs = 500;

export interface LiveSummary {
  summary: Summary | undefined;
  version: number;
  connected: boolean;
}

export function useLiveSummary(url = '/api/stream'): LiveSummary {
  const [summary, setSummary] = useState<Summary | undefined>(undefined);
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const lastTotal = useRef<number | undefined>(undefined);
  const lastBump = useRef(0);
  const pending = useRef<number | undefined>(undefined);

  useEffect(() => {
    const source = new EventSource(url);
    const bump = () => {
      pending.current = undefined;
      lastBump.current = Date.now();
      setVersion((value) => value + 1);
    };
    source.addEventListener('open', () => {
      setConnected(true);
    });
    source.addEventListener('error', () => {
      setConnected(false);
    });
    source.addEventListener('summary', (event: MessageEvent<string>) => {
      const next = JSON.parse(event.data) as Summary;
      setConnected(true);
      setSummary(next);
      if (next.total === lastTotal.current) return;
      const first = lastTotal.current === undefined;
      lastTotal.current = next.total;
      if (first || pending.current !== undefined) return;
      const wait = Math.max(0, lastBump.current + minReloadMs - Date.now());
      pending.current = window.setTimeout(bump, wait);
    });
    return () => {
      source.close();
      window.clearTimeout(pending.current);
    };
  }, [url]);

  return { summary, version, connected };
}
