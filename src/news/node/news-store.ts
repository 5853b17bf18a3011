/**
 * The news operations a node performs, as plain functions over SQL: subscriptions, reading
 * (which marks as read, per user, on the server), posting (idempotent on the client's key;
 * the seed requires a subscription) and deleting (author only).
 */
import type { Outcome } from '../../platform/sql/group-commit.js';
import type { Sql, SqlQueryable } from '../../platform/sql/sql.js';
import { maxNewsPerRead, NewsError, type NewsView } from '../protocol.js';
import { endedEverywhere, loggedOut } from '../sessions.js';
import type { TokenClaims } from '../tokens.js';

/** The id of `area` if `node` serves it; `wrong_node` sends the client back to the agent. */
export async function servedArea(sql: SqlQueryable, area: string, node: string): Promise<string> {
  const { rows } = await sql.query<{ id: string; served: boolean }>(
    `SELECT a.id::text, EXISTS (
       SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $2
     ) AS served
     FROM news_areas a WHERE a.name = $1`,
    [area, node],
  );
  const row = rows[0];
  if (row === undefined) throw new NewsError('not_found', `there is no area "${area}"`);
  if (!row.served) {
    throw new NewsError('wrong_node', `this node does not serve "${area}"; ask the agent again`);
  }
  return row.id;
}

/**
 * `servedArea` and the session's revocation check in one statement, for the operations that
 * name an area: the common path asks the database once before its own work, not twice. The
 * token's signature and expiry are checked before (`verifyToken`); a logged-out session (or
 * one ended by "log out everywhere") is refused first, whatever the area.
 */
export async function servedAreaForSession(
  sql: SqlQueryable,
  area: string,
  node: string,
  session: Pick<TokenClaims, 'sid' | 'sub' | 'iat'>,
): Promise<string> {
  const { rows } = await sql.query<{
    revoked: boolean;
    valid_after: number | null;
    id: string | null;
    served: boolean;
  }>(
    `SELECT EXISTS (SELECT 1 FROM news_revoked_sessions WHERE sid = $3) AS revoked,
       (SELECT extract(epoch FROM sessions_valid_after)::float8 FROM news_users WHERE id = $4)
         AS valid_after,
       a.id::text, EXISTS (
         SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $2
       ) AS served
     FROM (SELECT 1) AS one LEFT JOIN news_areas a ON a.name = $1`,
    [area, node, session.sid, session.sub],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('a one-row SELECT returned no row');
  if (row.revoked) throw loggedOut();
  if (row.valid_after !== null && session.iat < row.valid_after) throw endedEverywhere();
  if (row.id === null) throw new NewsError('not_found', `there is no area "${area}"`);
  if (!row.served) {
    throw new NewsError('wrong_node', `this node does not serve "${area}"; ask the agent again`);
  }
  return row.id;
}

export interface Subscription {
  userId: string;
  areaId: string;
}

/** The subscribes of one group commit in one statement; `changed` as each had alone, in order. */
export async function subscribeMany(
  tx: SqlQueryable,
  subscriptions: readonly Subscription[],
): Promise<Outcome<{ subscribed: boolean; changed: boolean }>[]> {
  const { rows } = await tx.query<{ user_id: string; area_id: string }>(
    `INSERT INTO news_subscriptions (user_id, area_id)
     SELECT user_id, area_id FROM unnest($1::bigint[], $2::bigint[])
       WITH ORDINALITY AS incoming(user_id, area_id, ord)
     ORDER BY ord
     ON CONFLICT DO NOTHING
     RETURNING user_id::text, area_id::text`,
    [subscriptions.map((s) => s.userId), subscriptions.map((s) => s.areaId)],
  );
  const added = new Set(rows.map((row) => pairOf(row.user_id, row.area_id)));
  // Only the first of a batch's repeats changed anything.
  return subscriptions.map(({ userId, areaId }) => ({
    value: { subscribed: true, changed: added.delete(pairOf(userId, areaId)) },
  }));
}

function pairOf(first: string, second: string): string {
  return `${first}:${second}`;
}

export async function unsubscribe(sql: SqlQueryable, userId: string, areaId: string) {
  const { rowCount } = await sql.query(
    'DELETE FROM news_subscriptions WHERE user_id = $1 AND area_id = $2',
    [userId, areaId],
  );
  return { subscribed: false, changed: rowCount > 0 };
}

interface NewsRow {
  id: string;
  area: string;
  author: string;
  body: string;
  posted_at: Date;
  was_read: boolean;
}

function toView(row: NewsRow): NewsView {
  return {
    id: row.id,
    area: row.area,
    author: row.author,
    text: row.body,
    postedAt: new Date(row.posted_at).toISOString(),
    wasRead: row.was_read,
  };
}

/**
 * The news of an area (all, or only unread), oldest first; what is returned is now read, and
 * what you wrote yourself was never new to you. One statement: the read marks are written by
 * the same snapshot that chose the rows.
 */
export async function readNews(
  sql: SqlQueryable,
  userId: string,
  areaId: string,
  unreadOnly: boolean,
  after?: string,
): Promise<NewsView[]> {
  const { rows } = await sql.query<NewsRow>(
    `WITH picked AS (
       SELECT i.id, i.area_id, i.author_id, i.body, i.posted_at,
              (r.user_id IS NOT NULL OR i.author_id = $1) AS was_read
       FROM news_items i
       LEFT JOIN news_reads r ON r.news_id = i.id AND r.user_id = $1
       WHERE i.area_id = $2
         AND ($3::boolean = false OR (r.user_id IS NULL AND i.author_id <> $1))
         AND i.id > $5
       ORDER BY i.id
       LIMIT $4
     ), marked AS (
       INSERT INTO news_reads (user_id, news_id)
       SELECT $1, id FROM picked WHERE NOT was_read
       ON CONFLICT DO NOTHING
     )
     SELECT p.id::text, a.name AS area, u.name AS author, p.body, p.posted_at, p.was_read
     FROM picked p
     JOIN news_areas a ON a.id = p.area_id
     JOIN news_users u ON u.id = p.author_id
     ORDER BY p.id`,
    [userId, areaId, unreadOnly, maxNewsPerRead, after ?? '0'],
  );
  return rows.map(toView);
}

const postedColumns = `i.id::text, a.name AS area, u.name AS author, i.body, i.posted_at,
  false AS was_read`;

export interface NewPost {
  userId: string;
  areaId: string;
  text: string;
  clientKey: string;
}

/**
 * The posts of one group commit in one statement, each with the meaning `postNews` gives it:
 * added if its author is subscribed, the earlier post when its key was used before (also
 * earlier in the batch), `not_subscribed` otherwise (for that caller only).
 */
export async function postNewsMany(
  tx: SqlQueryable,
  posts: readonly NewPost[],
): Promise<Outcome<NewsView>[]> {
  const { rows } = await tx.query<NewsRow & { author_id: string; client_key: string }>(
    `WITH added AS (
       INSERT INTO news_items (area_id, author_id, body, client_key)
       SELECT area_id, author_id, body, client_key
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
         WITH ORDINALITY AS incoming(area_id, author_id, body, client_key, ord)
       WHERE EXISTS (
         SELECT 1 FROM news_subscriptions s
         WHERE s.user_id = incoming.author_id AND s.area_id = incoming.area_id
       )
       ORDER BY ord
       ON CONFLICT (author_id, client_key) DO NOTHING
       RETURNING *
     )
     SELECT ${postedColumns}, i.author_id::text, i.client_key FROM added i
     JOIN news_areas a ON a.id = i.area_id JOIN news_users u ON u.id = i.author_id`,
    [
      posts.map((post) => post.areaId),
      posts.map((post) => post.userId),
      posts.map((post) => post.text),
      posts.map((post) => post.clientKey),
    ],
  );
  const found = new Map(rows.map((row) => [pairOf(row.author_id, row.client_key), row]));
  const retried = posts.filter((post) => !found.has(pairOf(post.userId, post.clientKey)));
  if (retried.length > 0) {
    const { rows: earlier } = await tx.query<NewsRow & { author_id: string; client_key: string }>(
      `SELECT ${postedColumns}, i.author_id::text, i.client_key FROM news_items i
       JOIN news_areas a ON a.id = i.area_id JOIN news_users u ON u.id = i.author_id
       WHERE (i.author_id, i.client_key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`,
      [retried.map((post) => post.userId), retried.map((post) => post.clientKey)],
    );
    for (const row of earlier) found.set(pairOf(row.author_id, row.client_key), row);
  }
  return posts.map((post) => {
    const row = found.get(pairOf(post.userId, post.clientKey));
    return row === undefined
      ? { error: new NewsError('not_subscribed', 'subscribe to the area before posting to it') }
      : { value: toView(row) };
  });
}

/** Deletes a news item of an area this node serves, if `userId` wrote it. */
export async function deleteNews(sql: Sql, userId: string, newsId: string, node: string) {
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query<{ author_id: string; area: string }>(
      `SELECT i.author_id::text, a.name AS area FROM news_items i
       JOIN news_areas a ON a.id = i.area_id WHERE i.id = $1 FOR UPDATE OF i`,
      [newsId],
    );
    const item = rows[0];
    if (item === undefined) throw new NewsError('not_found', `there is no news item ${newsId}`);
    await servedArea(tx, item.area, node);
    if (item.author_id !== userId) {
      throw new NewsError('not_author', 'only the author may delete a news item');
    }
    await tx.query('DELETE FROM news_items WHERE id = $1', [newsId]);
    return { deleted: newsId, area: item.area };
  });
}
