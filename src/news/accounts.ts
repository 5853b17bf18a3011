/**
 * Accounts: registration, login and admins. Passwords are scrypt hashes; the admin flag lives
 * only in the database (the seed took it from the client), checked on every admin operation.
 */
import { randomUUID } from 'node:crypto';

import { isUniqueViolation } from '../platform/sql/errors.js';
import type { SqlQueryable } from '../platform/sql/sql.js';
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
      'INSERT INTO news_users (name, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id::text',
      [name, hash, admin],
    );
    return { id: rows[0]?.id ?? '', name, admin };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new NewsError('name_taken', `the name "${name}" is already registered`);
    }
    throw error;
  }
}

/**
 * `agora news create-admin`: a new admin, or a new password for an existing admin. It never
 * promotes an existing ordinary user: whoever registered that name first would find the
 * sessions they already hold turned into admin sessions.
 */
export async function createAdmin(
  sql: SqlQueryable,
  name: string,
  password: string,
): Promise<UserView> {
  const hash = await hashPassword(password);
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO news_users (name, password_hash, is_admin) VALUES ($1, $2, true)
     ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash
       WHERE news_users.is_admin
     RETURNING id::text`,
    [name, hash],
  );
  const id = rows[0]?.id;
  if (id === undefined) {
    throw new NewsError(
      'name_taken',
      `"${name}" is an ordinary user's name; an admin needs a name nobody has registered`,
    );
  }
  return { id, name, admin: true };
}

export async function login(
  sql: SqlQueryable,
  secret: Buffer,
  name: string,
  password: string,
  ttlSeconds: number,
): Promise<LoginResult> {
  const { rows } = await sql.query<UserRow>(
    'SELECT id::text, name, password_hash, is_admin FROM news_users WHERE name = $1',
    [name],
  );
  const user = rows[0];
  // An unknown name costs a hash check too, so timing does not reveal who is registered.
  const matches = await verifyPassword(password, user?.password_hash ?? decoyHash);
  if (user === undefined || !matches) {
    throw new NewsError('bad_credentials', 'wrong name or password');
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = issueToken(secret, {
    sub: user.id,
    name: user.name,
    sid: randomUUID(),
    iat: now,
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
