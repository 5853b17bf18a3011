/**
 * The vote service's two cookies: `voter_id` (who votes; signed as @fastify/cookie signs, so
 * cookies issued before stay valid) and `vote` (the choice the page marks). Read and written
 * here rather than by the cookie plugin: on `POST /` the plugin's per-request parse hook,
 * option merging, serialisation and onSend hook were a measurable share of the profile, and
 * both Set-Cookie lines are constant but for the value, so they are built once.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

import { type VoteOption, voterIdPattern } from './protocol.js';

const yearInSeconds = 365 * 24 * 60 * 60;
const voterAttributes = `; Max-Age=${yearInSeconds}; Path=/; HttpOnly; SameSite=Lax`;
const choiceAttributes = `; Max-Age=${yearInSeconds}; Path=/; SameSite=Lax`;

/** The two cookies as a request carries them (raw `voter_id`: still signed). */
export interface RequestCookies {
  voterId?: string;
  vote?: string;
}

/** A verified voter, a voter to issue an id to, or a cookie this site did not sign. */
export type Voter = { id: string; isNew: boolean } | { forged: true };

export class VoterCookies {
  /**
   * The secret as a key object, made once: an HMAC keyed by a string converts and imports the
   * key on every call, most of signing a new voter's id in a profile of bench/voting (a).
   */
  readonly #key: KeyObject;
  /** `vote=<option>...` per option: the same line for every voter. */
  readonly #choiceLines: Record<VoteOption, string> = {
    a: `vote=a${choiceAttributes}`,
    b: `vote=b${choiceAttributes}`,
  };

  constructor(secret: string) {
    this.#key = createSecretKey(Buffer.from(secret));
  }

  /** The voter a request's `voter_id` names, or a new one when it has none. */
  voterOf(raw: string | undefined, newId: () => string): Voter {
    if (raw === undefined) return { id: newId(), isNew: true };
    const dot = raw.lastIndexOf('.');
    const value = raw.slice(0, dot);
    const valid = dot > 0 && sameText(raw.slice(dot + 1), this.#signatureOf(value));
    return valid && voterIdPattern.test(value) ? { id: value, isNew: false } : { forged: true };
  }

  /** The Set-Cookie line issuing `voterId`. */
  voterLine(voterId: string): string {
    const signed = `${voterId}.${this.#signatureOf(voterId)}`;
    return `voter_id=${encodeURIComponent(signed)}${voterAttributes}`;
  }

  /** The Set-Cookie line remembering the choice, for the page to mark it. */
  choiceLine(vote: VoteOption): string {
    return this.#choiceLines[vote];
  }

  /** @fastify/cookie's signature: HMAC-SHA256 in base64 without its `=` padding. */
  #signatureOf(value: string): string {
    return createHmac('sha256', this.#key).update(value).digest('base64').replace(/=+$/, '');
  }
}

/** Compares in constant time for a given length, as a signature check must. */
function sameText(actual: string, expected: string): boolean {
  const a = Buffer.from(actual);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `voter_id` and `vote` from a Cookie header, as the `cookie` package reads them: the first
 * of a name wins, surrounding quotes are dropped, %-escapes decoded (a bad escape: kept raw).
 */
export function readCookies(header: string | undefined): RequestCookies {
  const found: RequestCookies = {};
  if (header === undefined) return found;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = pair.slice(0, equals).trim();
    if (name === 'voter_id') found.voterId ??= valueOf(pair.slice(equals + 1));
    else if (name === 'vote') found.vote ??= valueOf(pair.slice(equals + 1));
  }
  return found;
}

function valueOf(text: string): string {
  let value = text.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
