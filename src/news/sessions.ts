/**
 * Who is asking: the token secret every agent and node shares, and the check of a request's
 * token (signature, expiry, not revoked at logout, not issued before "log out everywhere"). Nodes run it without calling the agent.
 *
 * The secret is AGORA_NEWS_SECRET when set; otherwise one random secret is generated once and
 * kept in Postgres (`news_secret`), so agents and nodes of one deployment share it with no
 * configuration and an agent restart keeps every session valid. The database is already
 * trusted with every account and news item, so it adds no one who could forge a token.
 */
import { randomBytes } from 'node:crypto';

import { ConfigError } from '../platform/errors.js';
import type { SqlQueryable } from '../platform/sql/sql.js';
import { NewsError } from './protocol.js';
import { type TokenClaims, verifyToken } from './tokens.js';

const minSecretChars = 32;

/** A short secret can be guessed offline from one token; refuse to start with one. */
export function requireStrongSecret(configured: string | undefined): void {
  if (configured !== undefined && configured.length < minSecretChars) {
    throw new ConfigError(
      'AGORA_NEWS_SECRET',
      `AGORA_NEWS_SECRET must have at least ${minSecretChars} characters`,
    );
  }
}

export async function loadSecret(
  sql: SqlQueryable,
  configured: string | undefined,
): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  // Whichever process comes first stores its candidate; everyone reads the one stored.
  await sql.query(
    'INSERT INTO news_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
    [randomBytes(32)],
  );
  const { rows } = await sql.query<{ secret: Buffer | Uint8Array }>(
    'SELECT secret FROM news_secret WHERE id = 1',
  );
  const secret = rows[0]?.secret;
  if (secret === undefined) throw new Error('news_secret has no row after inserting one');
  return Buffer.from(secret);
}

/** The claims of a valid session: genuine, unexpired and not logged out. */
export async function authenticate(
  sql: SqlQueryable,
  secret: Buffer,
  token: unknown,
): Promise<TokenClaims> {
  // The signature first: a forged token costs no database query.
  const claims = verifyToken(secret, token);
  const { rows } = await sql.query<{ revoked: boolean; valid_after: number | null }>(
    `SELECT EXISTS (SELECT 1 FROM news_revoked_sessions WHERE sid = $1) AS revoked,
       (SELECT extract(epoch FROM sessions_valid_after)::float8 FROM news_users WHERE id = $2)
         AS valid_after`,
    [claims.sid, claims.sub],
  );
  const state = rows[0];
  if (state?.revoked === true) throw loggedOut();
  if (state?.valid_after != null && claims.iat < state.valid_after) throw endedEverywhere();
  return claims;
}

/** The error for a token issued before its user's "log out everywhere" or password reset. */
export function endedEverywhere(): NewsError {
  return new NewsError(
    'unauthenticated',
    'this session was ended by "log out everywhere" or a password reset; log in again',
  );
}

/** The error for a genuine token whose session was revoked at logout. */
export function loggedOut(): NewsError {
  return new NewsError('unauthenticated', 'this session was logged out');
}

/** Logout: the session's tokens stop working everywhere, though they have not expired. */
export async function revokeSession(sql: SqlQueryable, claims: TokenClaims): Promise<void> {
  await sql.query(
    `INSERT INTO news_revoked_sessions (sid, expires_at) VALUES ($1, to_timestamp($2))
     ON CONFLICT (sid) DO NOTHING`,
    [claims.sid, claims.exp],
  );
  // Revocations outlive their token only until it expires; drop the ones no longer needed.
  await sql.query('DELETE FROM news_revoked_sessions WHERE expires_at < now()');
}
