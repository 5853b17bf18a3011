/**
 * The contract a system's load profile implements: its routes, its simulated users, one
 * operation per call, and a check, after the run, that what was acknowledged is stored.
 */
import type { Dispatcher } from 'undici';

/** Plain JSON, so expected and stored values can go into the JSON report unchanged. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What a scenario may use while it runs; every profile shares the one connection pool. */
export interface ScenarioContext {
  /** The `--url` the run was pointed at. */
  readonly baseUrl: URL;
  /** Keep-alive connection pool (an undici Agent); pass it as `dispatcher` to undici. */
  readonly http: Dispatcher;
  /** Aborted when the run gives up on requests still in flight; pass it on as `signal`. */
  readonly signal: AbortSignal;
}

/** The result of one operation. */
export interface Outcome<Ack> {
  /** One of the scenario's `routes`: the row the request is counted in. */
  route: string;
  ok: boolean;
  status?: number;
  /** Why it failed, short and low-cardinality ("HTTP 503", "timeout"): failures group by it. */
  error?: string;
  /** Set on success: what the server promised to keep, for `verify`. */
  acknowledged?: Ack;
  /**
   * Set on a write whose outcome is unknown (timeout, reset connection, aborted): it may or
   * may not have been stored, and `verify` must accept either.
   */
  unconfirmed?: Ack;
}

/** What a scenario's `verify` receives: every acknowledged and every unconfirmed write. */
export interface RunRecord<Ack> {
  readonly acknowledged: readonly Ack[];
  readonly unconfirmed: readonly Ack[];
}

export interface VerificationResult {
  ok: boolean;
  /** How many acknowledged items were checked. */
  checked: number;
  /** What the acknowledgements imply is stored (for example counts per option). */
  expected?: JsonValue;
  /** What the system actually holds, in the same shape as `expected`. */
  stored?: JsonValue;
  /** One line per difference, naming the item ("ballot b-17: stored 2 times"). */
  differences: string[];
  /** Which store was checked and how it was reached (see `describeStore`). */
  store?: string;
}

/**
 * How a report names the store a verification read: the SQL driver the running service said
 * it uses, and the way in ("embedded PGlite, read through result at http://...").
 */
export function describeStore(driver: string, through: string): string {
  const name = driver === 'pglite' ? 'embedded PGlite' : driver === 'pg' ? 'Postgres' : driver;
  return `${name}, read through ${through}`;
}

export interface Scenario<User, Ack = never> {
  /** The system's name, shown in the live view and the report. */
  readonly name: string;
  /** Every route `request` may report, in the order the report lists them. */
  readonly routes: readonly string[];
  /** Runs once before the load starts (fetch reference data, check the target answers). */
  prepare?(context: ScenarioContext): Promise<void>;
  /** A fresh simulated user with its own state (cookie jar, voter id). */
  createUser(index: number): User;
  /**
   * Performs ONE operation as `user`. A user never has two requests in flight at once, so
   * its state needs no locking. Should not throw: a throw is counted as an `unrouted` failure.
   */
  request(user: User, context: ScenarioContext): Promise<Outcome<Ack>>;
  /** Compares what was acknowledged with what the system stores; runs after the load. */
  verify?(record: RunRecord<Ack>, context: ScenarioContext): Promise<VerificationResult>;
}

/** A short, low-cardinality failure reason for an error thrown by a client library. */
export function errorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (error.name === 'TimeoutError') return 'timeout';
  if (error.name === 'AbortError' || code === 'UND_ERR_ABORTED') return 'aborted';
  if (typeof code === 'string') return code;
  return error.message.split('\n')[0] ?? error.name;
}
