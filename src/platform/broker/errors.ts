/**
 * Failures of the broker seam that a caller must tell apart from "the broker is unavailable"
 * (which is BrokerUnavailableError, in platform/errors.ts). Both drivers throw these classes.
 */

/** The stream or its consumer group does not exist (Redis' NOGROUP); creating the group fixes it. */
export class NoGroupError extends Error {
  constructor(
    readonly stream: string,
    readonly group: string,
    options?: ErrorOptions,
  ) {
    super(`No consumer group '${group}' on stream '${stream}'`, options);
    this.name = 'NoGroupError';
  }
}

/** A command met a key holding another kind of value (Redis' WRONGTYPE), e.g. INCR on a list. */
export class WrongTypeError extends Error {
  constructor(key?: string, options?: ErrorOptions) {
    super(`${key === undefined ? 'A key' : `Key '${key}'`} holds another kind of value`, options);
    this.name = 'WrongTypeError';
  }
}

/**
 * The embedded broker's log has a damaged record before its end: starting would drop what
 * follows, so the start stops instead. The message names the file and the byte offset.
 */
export class BrokerLogCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`broker log ${file} is corrupt at byte ${offset} (${reason}); nothing was changed`);
    this.name = 'BrokerLogCorruptError';
  }
}

/** Another live process keeps its embedded broker log in this directory. */
export class BrokerLogLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(
      `broker log in ${directory} is in use by process ${pid}; stop it or use another AGORA_DATA_DIR`,
    );
    this.name = 'BrokerLogLockedError';
  }
}
