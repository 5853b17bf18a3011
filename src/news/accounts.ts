/**
 * Accounts: registration, login and admins. Passwords are scrypt hashes; the admin flag lives
 * only in the database (the seed took it from the client), checked on every admin operation.
 */
import { randomUUID } from 'node:crypto';

import { isUniqueViolation } from '../platform/sql/errors.js';
import type { SqlQueryable } from '../platform/sql/sql.js';
import { nameKey } from './names.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { type LoginResult, NewsError, type UserView } from './protocol.js';
import { issueToken } from './tokens.js';

interface UserRow {
  id: string;
  name: string;
  password_hash: string;
  is_admin: boolean;
}

export async function registerUser(
  sql: SqlQueryable,
  name: string,
  password: string,
  admin = false,
): Promise<UserView> {
  const hash = await hashPassword(password);
  try {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO news_users (name, name_key, password_hash, is_admin) VALUES ($1, $2, $3, $4)
       RETURNING id::text`,
      [name, nameKey(name), hash, admin],
    );
    return { id: rows[0]?.id ?? '', name, admin };
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
}

/** The name, or one that reads the same (other case, width or look-alike letters), is taken. */
function nameTaken(name: string): NewsError {
  return new NewsError(
    'name_taken',
    `the name "${name}" is already registered, or one that looks the same`,
  );
}

/** The user a typed name means: the same name under `nameKey`, else (older rows) the exact one. */
const userByName = `SELECT id::text, name, password_hash, is_admin FROM news_users
  WHERE name_key = $2 OR (name_key IS NULL AND name = $1)
  ORDER BY name_key IS NULL LIMIT 1`;

/**
 * "Log out everywhere": every token of the user issued before now stops working, on every
 * agent and node. Used on a password reset too.
 */
export async function endAllSessions(
  sql: SqlQueryable,
  userId: string,
  nowMs = Date.now(),
): Promise<void> {
  await sql.query('UPDATE news_users SET sessions_valid_after = to_timestamp($2) WHERE id = $1', [
    userId,
    nowMs / 1000,
  ]);
}

/**
 * `agora news create-admin`: a new admin, or a new password for an existing admin, which
 * also logs that admin out everywhere (a reset usually means the old password leaked). It never
 * promotes an existing ordinary user: whoever registered that name first would find the
 * sessions they already hold turned into admin sessions.
 */
export async function createAdmin(
  sql: SqlQueryable,
  name: string,
  password: string,
): Promise<UserView> {
  const hash = await hashPassword(password);
  let rows: { id: string; name: string }[];
  try {
    ({ rows } = await sql.query<{ id: string; name: string }>(
      `INSERT INTO news_users (name, name_key, password_hash, is_admin) VALUES ($1, $2, $3, true)
       ON CONFLICT (name_key) DO UPDATE SET password_hash = EXCLUDED.password_hash,
         sessions_valid_after = to_timestamp($4)
         WHERE news_users.is_admin
       RETURNING id::text, name`,
      [name, nameKey(name), hash, Date.now() / 1000],
    ));
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
  const row = rows[0];
  if (row === undefined) {
    throw new NewsError(
      'name_taken',
      `"${name}" is an ordinary user's name (or looks like one); an admin needs a name nobody has registered`,
    );
  }
  return { id: row.id, name: row.name, admin: true };
}

export async function login(
  sql: SqlQueryable,
  secret: Buffer,
  name: string,
  password: string,
  ttlSeconds: number,
): Promise<LoginResult> {
  const { rows } = await sql.query<UserRow>(userByName, [name, nameKey(name)]);
  const user = rows[0];
  // An unknown name costs a hash check too, so timing does not reveal who is registered.
  const matches = await verifyPassword(password, user?.password_hash ?? decoyHash);
  if (user === undefined || !matches) {
    throw new NewsError('bad_credentials', 'wrong name or password');
  }
  const nowMs = Date.now();
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  const token = issueToken(secret, {
    sub: user.id,
    name: user.name,
    sid: randomUUID(),
    // In milliseconds' precision, so a login just after "log out everywhere" stays valid.
    iat: nowMs / 1000,
    exp,
  });
  return {
    token,
    user: { id: user.id, name: user.name, admin: user.is_admin },
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}

/** The user behind a session, read fresh so a removed admin right takes effect at once. */
export async function findUser(sql: SqlQueryable, id: string): Promise<UserView> {
  const { rows } = await sql.query<{ id: string; name: string; is_admin: boolean }>(
    'SELECT id::text, name, is_admin FROM news_users WHERE id = $1',
    [id],
  );
  const user = rows[0];
  if (user === undefined) throw new NewsError('unauthenticated', 'this account no longer exists');
  return { id: user.id, name: user.name, admin: user.is_admin };
}

export async function requireAdmin(sql: SqlQueryable, id: string): Promise<UserView> {
  const user = await findUser(sql, id);
  if (!user.admin) throw new NewsError('forbidden', 'only an admin may do this');
  return user;
}
