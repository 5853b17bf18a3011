/**
 * Loads one API path and reloads it whenever `version` moves (a live update) or the path
 * changes. The last good answer stays on screen while the next one loads, so charts do not
 * flicker on every update.
 */
import { useEffect, useState } from 'react';

import { getJson } from './api.js';

export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
}

/** `path` undefined means "nothing to load yet" (a picker without a choice). */
export function useApi<T>(path: string | undefined, version: number): ApiState<T> {
  const [state, setState] = useState<ApiState<T>>({ data: undefined, error: undefined });

  useEffect(() => {
    if (path === undefined) {
      setState({ data: undefined, error: undefined });
      return;
    }
    const controller = new AbortController();
    getJson<T>(path, controller.signal).then(
      (data) => {
        setState({ data, error: undefined });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((previous) => ({
          data: previous.data,
          error: error instanceof Error ? error : new Error(String(error)),
        }));
      },
    );
    return () => {
      controller.abort();
    };
  }, [path, version]);

  return state;
}
