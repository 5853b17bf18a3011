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
  const { rows } = await sql.query<SessionGate>(
    `SELECT EXISTS (SELECT 1 FROM news_revoked_sessions WHERE sid = $3) AS revoked,
       (SELECT extract(epoch FROM sessions_valid_after)::float8 FROM news_users WHERE id = $4)
         AS valid_after,
       a.id::text AS area_id, EXISTS (
         SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $2
       ) AS served
     FROM (SELECT 1) AS one LEFT JOIN news_areas a ON a.name = $1`,
    [area, node, session.sid, session.sub],
    { prepare: true },
  );
  const gate = rows[0];
  if (gate === undefined) throw new Error('a one-row SELECT returned no row');
  return checkGate(gate, area, session.iat);
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
 * what you wrote yourself was never new to you. One statement, the common path's only round
 * trip on the node: it checks the session (not logged out, not ended everywhere) and that this
 * node serves the area, and the read marks are written by the same snapshot that chose the
 * rows. The token's signature and expiry are checked before (`verifyToken`); a refused
 * session is refused first, whatever the area.
 */
/** The user's read-through in the area: every item posted below it is read. */
const readThrough = `coalesce((
             SELECT t.read_through FROM news_read_through t
             WHERE t.user_id = $1 AND t.area_id = (SELECT area_id FROM allowed)
           ), '0'::xid8)`;

/** Every item of the area after `$5`, read or not: a page in id order. */
const pickAll = `picked AS (
       SELECT i.id, i.area_id, i.author_id, i.body, i.posted_at, i.inserted_by,
              (r.user_id IS NOT NULL OR i.author_id = $1 OR i.inserted_by < ${readThrough})
                AS was_read
       FROM news_items i
       LEFT JOIN news_reads r ON r.news_id = i.id AND r.user_id = $1
       WHERE i.area_id = (SELECT area_id FROM allowed) AND i.id > $5 AND NOT $3::boolean
       ORDER BY i.id
       LIMIT $4`;

/**
 * The unread items after `$5`: only those posted since the user's read-through are looked at
 * (OFFSET 0 keeps the planner from walking the whole area in id order for the LIMIT), so a
 * read costs what is new, not the size of the area.
 */
const pickUnread = `picked AS (
       SELECT * FROM (
         SELECT i.id, i.area_id, i.author_id, i.body, i.posted_at, i.inserted_by,
                false AS was_read
         FROM news_items i
         WHERE i.area_id = (SELECT area_id FROM allowed)
           AND i.inserted_by >= ${readThrough}
           AND i.author_id <> $1 AND i.id > $5 AND $3::boolean
         OFFSET 0
       ) unread
       -- A lookup per candidate, not a join the planner could make by reading all the marks.
       WHERE (SELECT true FROM news_reads r WHERE r.user_id = $1 AND r.news_id = unread.id) IS NULL
       ORDER BY id
       LIMIT $4`;

export async function readNewsForSession(
  sql: SqlQueryable,
  session: Pick<TokenClaims, 'sid' | 'sub' | 'iat'>,
  area: string,
  node: string,
  unreadOnly: boolean,
  after?: string,
): Promise<NewsView[]> {
  const { rows } = await sql.query<SessionGate & NullableRow<NewsRow>>(
    `WITH gate AS (
       SELECT EXISTS (SELECT 1 FROM news_revoked_sessions WHERE sid = $6) AS revoked,
         (SELECT extract(epoch FROM sessions_valid_after)::float8 FROM news_users WHERE id = $1)
           AS valid_after,
         a.id AS area_id, EXISTS (
           SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $7
         ) AS served
       FROM (SELECT 1) AS one LEFT JOIN news_areas a ON a.name = $2
     ), allowed AS (
       SELECT area_id FROM gate
       WHERE NOT revoked AND (valid_after IS NULL OR valid_after <= $8::float8) AND served
     ), ${unreadOnly ? pickUnread : pickAll}     ), horizon AS (
       -- Every unread item it could see is now read: so is every item of a transaction older
       -- than the oldest one still running (each of those is visible, or rolled back). Only
       -- a read from the start, not cut short by the limit, that read something new, moves
       -- the read-through there; it has a row only then.
       SELECT pg_snapshot_xmin(pg_current_snapshot()) AS read_through
       WHERE $5::bigint = 0 AND (SELECT count(*) FROM picked) < $4
         AND EXISTS (SELECT 1 FROM picked WHERE NOT was_read)
     ), marked AS (
       -- Marks only for what the read-through will not cover: most items of a read need none.
       INSERT INTO news_reads (user_id, news_id)
       SELECT $1, id FROM picked
       WHERE NOT was_read AND NOT coalesce(inserted_by < (SELECT read_through FROM horizon), false)
       ON CONFLICT DO NOTHING
     ), advanced AS (
       INSERT INTO news_read_through (user_id, area_id, read_through)
       SELECT $1, area_id, read_through FROM allowed, horizon
       ON CONFLICT (user_id, area_id) DO UPDATE
         SET read_through = greatest(news_read_through.read_through, excluded.read_through)
     )
     SELECT g.revoked, g.valid_after, g.area_id::text, g.served,
            p.id::text, a.name AS area, u.name AS author, p.body, p.posted_at, p.was_read
     FROM gate g
     LEFT JOIN (picked p
       JOIN news_areas a ON a.id = p.area_id
       JOIN news_users u ON u.id = p.author_id) ON true
     ORDER BY p.id`,
    [session.sub, area, unreadOnly, maxNewsPerRead, after ?? '0', session.sid, node, session.iat],
    { prepare: true },
  );
  const gate = rows[0];
  if (gate === undefined) throw new Error('a read returned not even its gate row');
  checkGate(gate, area, session.iat);
  // The gate's row alone when nothing was picked; else one row per item, every column set.
  return rows.flatMap((row) => (row.id === null ? [] : [toView(row as NewsRow)]));
}

type NullableRow<Row> = { [Column in keyof Row]: Row[Column] | null };

/** What a node learns about a request's session and area before it does the request's work. */
interface SessionGate {
  revoked: boolean;
  valid_after: number | null;
  area_id: string | null;
  served: boolean;
}

/**
 * Refuses a logged-out or ended session first, then an unknown area, then one served
 * elsewhere; returns the area's id.
 */
function checkGate(gate: SessionGate, area: string, issuedAt: number): string {
  if (gate.revoked) throw loggedOut();
  if (gate.valid_after !== null && issuedAt < gate.valid_after) throw endedEverywhere();
  if (gate.area_id === null) throw new NewsError('not_found', `there is no area "${area}"`);
  if (!gate.served) {
    throw new NewsError('wrong_node', `this node does not serve "${area}"; ask the agent again`);
  }
  return gate.area_id;
}

const postedColumns = `i.id::text, a.name AS area, u.name AS author, i.body, i.posted_at,
  false AS was_read`;

export interface NewPost {
  session: Pick<TokenClaims, 'sid' | 'sub' | 'iat'>;
  /** The area's name, as the request gave it. */
  area: string;
  text: string;
  clientKey: string;
}

type PostedRow = NewsRow & { author_id: string; client_key: string };

/**
 * The posts of one group commit, sent to `node`, in one statement that also checks each
 * post's session and area as `servedAreaForSession` does (so a post costs no round trip of
 * its own). Each has the meaning a post alone would: refused as its session or area says;
 * added if its author is subscribed; the earlier post when its key was used before (also
 * earlier in the batch); `not_subscribed` otherwise (for that caller only).
 */
export async function postNewsMany(
  tx: SqlQueryable,
  node: string,
  posts: readonly NewPost[],
): Promise<Outcome<NewsView>[]> {
  const { rows } = await tx.query<SessionGate & NullableRow<PostedRow>>(
    `WITH gate AS (
       SELECT incoming.*, a.id AS area_id,
         EXISTS (SELECT 1 FROM news_revoked_sessions r WHERE r.sid = incoming.sid) AS revoked,
         (SELECT extract(epoch FROM u.sessions_valid_after)::float8 FROM news_users u
          WHERE u.id = incoming.author_id) AS valid_after,
         EXISTS (
           SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $7
         ) AS served,
         EXISTS (
           SELECT 1 FROM news_subscriptions s
           WHERE s.user_id = incoming.author_id AND s.area_id = a.id
         ) AS subscribed
       FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS incoming(sid, author_id, issued_at, area_name, body, client_key, ord)
       LEFT JOIN news_areas a ON a.name = incoming.area_name
     ), added AS (
       INSERT INTO news_items (area_id, author_id, body, client_key)
       SELECT area_id, author_id, body, client_key FROM gate
       WHERE NOT revoked AND (valid_after IS NULL OR valid_after <= issued_at) AND served
         AND subscribed
       ORDER BY ord
       ON CONFLICT (author_id, client_key) DO NOTHING
       RETURNING *
     )
     SELECT g.revoked, g.valid_after, g.area_id::text, g.served, ${postedColumns},
            i.author_id::text, i.client_key
     FROM gate g
     LEFT JOIN added i ON i.author_id = g.author_id AND i.client_key = g.client_key
     LEFT JOIN news_areas a ON a.id = i.area_id
     LEFT JOIN news_users u ON u.id = i.author_id
     ORDER BY g.ord`,
    [
      posts.map((post) => post.session.sid),
      posts.map((post) => post.session.sub),
      posts.map((post) => post.session.iat),
      posts.map((post) => post.area),
      posts.map((post) => post.text),
      posts.map((post) => post.clientKey),
      node,
    ],
    { prepare: true },
  );
  if (rows.length !== posts.length) {
    throw new Error(`a batch of ${posts.length} posts gave ${rows.length} rows`);
  }
  // Per post: refused by its gate, or added now (row), or to be looked up by its key.
  const outcomes: (Outcome<NewsView> | undefined)[] = posts.map((post, i) => {
    const row = rows[i];
    if (row === undefined) return { error: new Error('the batch gave this post no row') };
    try {
      checkGate(row, post.area, post.session.iat);
    } catch (error) {
      return { error };
    }
    return row.id === null ? undefined : { value: toView(row as PostedRow) };
  });
  const retried = posts.filter((_, i) => outcomes[i] === undefined);
  const earlier = new Map<string, PostedRow>();
  if (retried.length > 0) {
    const { rows: found } = await tx.query<PostedRow>(
      `SELECT ${postedColumns}, i.author_id::text, i.client_key FROM news_items i
       JOIN news_areas a ON a.id = i.area_id JOIN news_users u ON u.id = i.author_id
       WHERE (i.author_id, i.client_key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`,
      [retried.map((post) => post.session.sub), retried.map((post) => post.clientKey)],
      { prepare: true },
    );
    for (const row of found) earlier.set(pairOf(row.author_id, row.client_key), row);
  }
  return posts.map((post, i) => {
    const outcome = outcomes[i];
    if (outcome !== undefined) return outcome;
    const row = earlier.get(pairOf(post.session.sub, post.clientKey));
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
