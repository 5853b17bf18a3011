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
