/**
 * The dashboard's view of election-api: typed GETs. The reply types come from the server's
 * own schemas, so a change there breaks this build rather than the page.
 */
export type {
  BallotsPage,
  DepartmentVotes,
  Options,
  PartyShare,
  RecentBallots,
  SedeVotes,
  StoredBallot,
  Summary,
} from '../../../src/election/api/schemas.js';

/** An API answer that was not 2xx, with the server's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `/api/x?a=1` from a path and parameters; undefined and empty values are left out. */
export function apiPath(path: string, params: Record<string, string | number | undefined> = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const query = search.toString();
  return query === '' ? path : `${path}?${query}`;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { signal, headers: { accept: 'application/json' } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      { error?: { message?: string } } | undefined;
    throw new ApiError(response.status, body?.error?.message ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}
