/**
 * The embedded stack's way in to news: at the first `agora up` (no admin exists yet) an admin
 * named `admin` is made with a random password, printed once with the start-up table. It runs
 * in the process that holds the database, so nothing else needs to open it.
 */
import { randomBytes } from 'node:crypto';

import type { Sql } from '../platform/sql/sql.js';
import { createAdmin } from './accounts.js';
import { NewsError } from './protocol.js';

export const firstAdminName = 'admin';

export async function makeFirstAdmin(sql: Sql): Promise<readonly string[]> {
  const { rowCount } = await sql.query('SELECT 1 FROM news_users WHERE is_admin LIMIT 1');
  if (rowCount !== 0) return [];
  const password = randomBytes(12).toString('base64url');
  try {
    await createAdmin(sql, firstAdminName, password);
  } catch (error) {
    if (!(error instanceof NewsError) || error.code !== 'name_taken') throw error;
    return [
      `news: no admin yet ("${firstAdminName}" is a user's name): stop Agora, then npm run agora -- news create-admin <name>`,
    ];
  }
  return [
    `news: first admin "${firstAdminName}", password ${password} (shown once): npm run agora -- news login ${firstAdminName}`,
  ];
}
