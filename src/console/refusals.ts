/**
 * Why the console (or the supervisor behind it) refuses an action, as data: the HTTP error
 * body carries it as `refusal` beside `error`, so the page says it in its own language; the
 * English `message` stays for `agora chaos` and the log.
 */
import { UsageError } from '../platform/errors.js';

export type Action = 'kill' | 'restart' | 'scale' | 'fault' | 'logs';

export type Refusal =
  | { code: 'unauthorized' }
  | { code: 'needs-distributed'; action: Action }
  | { code: 'needs-fault-proxy' }
  | { code: 'no-process'; label: string; known: string[] }
  | { code: 'not-running'; label: string }
  | { code: 'no-service'; service: string }
  | { code: 'one-worker-left'; service: string }
  | { code: 'one-replica-left'; service: string }
  | { code: 'no-load-profile'; system: string; known: string[] }
  | { code: 'load-running' }
  | { code: 'load-not-running'; id: number };

/** The codes that mean "no such thing": a 404 rather than a 400. */
export const notFoundRefusals: readonly Refusal['code'][] = [
  'no-process',
  'no-service',
  'no-load-profile',
  'load-not-running',
];

/** A request a person can fix, with its reason as data. */
export class ActionRefused extends UsageError {
  constructor(
    readonly refusal: Refusal,
    message: string,
  ) {
    super(message);
  }
}
