/**
 * The news operations a node performs, as plain functions over SQL: subscriptions, reading
 * (which marks as read, per user, on the server), posting (idempotent on the client's key;
 * the seed requires a subscription) and deleting (author only).
 */
import type { Sql, SqlQueryable } from '../../platform/sql/sql.js';
import { maxNewsPerRead, NewsError, type NewsView } from '../protocol.js';

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

export async function subscribe(sql: SqlQueryable, userId: string, areaId: string) {
  const { rowCount } = await sql.query(
    `INSERT INTO news_subscriptions (user_id, area_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING`,
    [userId, areaId],
  );
  return { subscribed: true, changed: rowCount > 0 };
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
 * The news of an area (all, or only unread), oldest first; what is returned is now read. One
 * statement: the read marks are written by the same snapshot that chose the rows.
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
              (r.user_id IS NOT NULL) AS was_read
       FROM news_items i
       LEFT JOIN news_reads r ON r.news_id = i.id AND r.user_id = $1
       WHERE i.area_id = $2 AND ($3::boolean = false OR r.user_id IS NULL)
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

/**
 * Adds a news item if the author is subscribed, in one statement. A retry of the same post
 * (same key) finds the first one instead of posting it twice.
 */
export async function postNews(
  sql: SqlQueryable,
  userId: string,
  areaId: string,
  text: string,
  clientKey: string,
): Promise<NewsView> {
  const { rows } = await sql.query<NewsRow>(
    `WITH added AS (
       INSERT INTO news_items (area_id, author_id, body, client_key)
       SELECT $1, $2, $3, $4
       WHERE EXISTS (SELECT 1 FROM news_subscriptions WHERE user_id = $2 AND area_id = $1)
       ON CONFLICT (author_id, client_key) DO NOTHING
       RETURNING *
     )
     SELECT ${postedColumns} FROM added i
     JOIN news_areas a ON a.id = i.area_id JOIN news_users u ON u.id = i.author_id`,
    [areaId, userId, text, clientKey],
  );
  const added = rows[0];
  if (added !== undefined) return toView(added);
  const { rows: earlier } = await sql.query<NewsRow>(
    `SELECT ${postedColumns} FROM news_items i
     JOIN news_areas a ON a.id = i.area_id JOIN news_users u ON u.id = i.author_id
     WHERE i.author_id = $1 AND i.client_key = $2`,
    [userId, clientKey],
  );
  const retried = earlier[0];
  if (retried !== undefined) return toView(retried);
  throw new NewsError('not_subscribed', 'subscribe to the area before posting to it');
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
