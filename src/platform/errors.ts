/**
 * Errors a caller must tell apart, each with a stable code and the HTTP status it maps to.
 * The HTTP layer turns them into `{ error: { code, message } }`; anything else is a 500.
 */

export interface AgoraErrorOptions extends ErrorOptions {
  /** Fields the error body carries beside `error`, e.g. the ids a client should retry with. */
  details?: Record<string, unknown>;
}

export class AgoraError extends Error {
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: AgoraErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.details = options?.details;
  }
}

/** The request itself is wrong (a missing or malformed field); the message names it. */
export class ValidationError extends AgoraError {
  constructor(message: string) {
    super('invalid_request', 400, message);
  }
}

/** The request contradicts what is stored (the same id with other content): 409. */
export class ConflictError extends AgoraError {
  constructor(code: string, message: string, options?: AgoraErrorOptions) {
    super(code, 409, message, options);
  }
}

export class NotFoundError extends AgoraError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

/** A dependency (Redis, Postgres, another service) does not answer; retrying later may work. */
export class UnavailableError extends AgoraError {
  constructor(
    readonly dependency: string,
    message: string,
    options?: AgoraErrorOptions,
  ) {
    super(`${dependency}_unavailable`, 503, message, options);
  }
}

export class BrokerUnavailableError extends UnavailableError {
  constructor(location: string, cause?: unknown) {
    super('broker', `The broker at ${location} is not answering${causeText(cause)}.`, { cause });
  }
}

export class SqlUnavailableError extends UnavailableError {
  constructor(location: string, cause?: unknown) {
    super('database', `The database at ${location} is not answering${causeText(cause)}.`, {
      cause,
    });
  }
}

/** A command-line request a user can fix (a missing backend, an unknown name); its message says how. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A configuration value is missing or malformed; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** ": connect ECONNREFUSED 127.0.0.1:6379" when there is a cause worth naming. */
function causeText(cause: unknown): string {
  return cause instanceof Error && cause.message !== '' ? ` (${cause.message})` : '';
}

/** Another live process (a running `agora up`, most often) holds the embedded data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(
      `Agora is already running on ${directory} (process ${pid}): use that one, stop it with Ctrl-C in its terminal, or set AGORA_DATA_DIR to another directory`,
    );
    this.name = 'DataDirLockedError';
  }
}
