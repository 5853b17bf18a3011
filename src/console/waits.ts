/**
 * What a not-ready process waits for, as data the page can put in its own language: the
 * `/readyz` check's name and its reason, sorted into the reasons Agora's services give (the
 * texts of src/platform and the services), with the raw text kept for anything else.
 */

export type WaitReason =
  /** "waiting for the broker / database / schema". */
  | { code: 'waiting-for'; what: 'broker' | 'database' | 'schema' }
  /** A readiness check that took longer than its deadline. */
  | { code: 'no-answer'; ms: number }
  /** The process does not answer at all (connection refused, reset, timed out). */
  | { code: 'unreachable'; error: string }
  /** A public `/readyz` gives no reasons, only "waiting". */
  | { code: 'waiting' }
  | { code: 'other'; text: string };

export interface Wait {
  /** The `/readyz` check: `broker (redis)`, `sql (pg)`, `schema`, `consumer group`, ... */
  check: string;
  reason: WaitReason;
}

const waitingFor = /^waiting for the (broker|database|schema)$/;
const noAnswer = /^no answer within (\d+) ms$/;
const unreachable = /^(E[A-Z]+|socket hang up)$/;

export function reasonOf(text: string): WaitReason {
  const what = waitingFor.exec(text)?.[1];
  if (what === 'broker' || what === 'database' || what === 'schema') {
    return { code: 'waiting-for', what };
  }
  const ms = noAnswer.exec(text)?.[1];
  if (ms !== undefined) return { code: 'no-answer', ms: Number(ms) };
  if (unreachable.test(text)) return { code: 'unreachable', error: text };
  if (text === 'waiting') return { code: 'waiting' };
  return { code: 'other', text };
}

/** The English text, for the terminal (`agora status --watch`) and the log. */
export function describeWait(wait: Wait): string {
  const { reason } = wait;
  switch (reason.code) {
    case 'waiting-for':
      return `${wait.check}: waiting for the ${reason.what}`;
    case 'no-answer':
      return `${wait.check}: no answer within ${reason.ms} ms`;
    case 'unreachable':
      return `not answering (${reason.error})`;
    case 'waiting':
      return `${wait.check}: waiting`;
    case 'other':
      return `${wait.check}: ${reason.text}`;
  }
}
