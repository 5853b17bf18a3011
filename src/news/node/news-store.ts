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

type ReadRow = SessionGate & { ord: string } & NullableRow<NewsRow>;

/** One read of a batch: the session asking, the area and which of its news. */
export interface NewsRead {
  session: Pick<TokenClaims, 'sid' | 'sub' | 'iat'>;
  /** The area's name, as the request gave it. */
  area: string;
  unreadOnly: boolean;
  /** Only items with an id above this one (a next page). */
  after: string | undefined;
}

/**
 * The reads of one group commit, sent to `node`, in one statement (and one commit) per round.
 * Each read is what it would be alone: the news of an area (all, or only unread), oldest
 * first; what it returns is now read, and what you wrote yourself was never new to you. The
 * statement checks each read's session (not logged out, not ended everywhere) and that this
 * node serves its area, and writes the read marks in the same snapshot that chose the rows.
 * The token's signature and expiry are checked before (`verifyToken`); a refused session is
 * refused first, whatever the area. Two reads of one user and area go to separate rounds, so
 * the later one sees what the earlier one marked, as it would after it.
 */
export async function readNewsMany(
  tx: SqlQueryable,
  node: string,
  reads: readonly NewsRead[],
): Promise<Outcome<NewsView[]>[]> {
  const outcomes = new Array<Outcome<NewsView[]>>(reads.length);
  for (const [number, round] of roundsOf(reads).entries()) {
    const batch = round.map((index) => ({ index, read: reads[index] as NewsRead }));
    let rows: ReadRow[];
    try {
      ({ rows } = await tx.query<ReadRow>(
        readStatement,
        [
          batch.map(({ read }) => read.session.sub),
          batch.map(({ read }) => read.area),
          batch.map(({ read }) => read.unreadOnly),
          batch.map(({ read }) => read.after ?? '0'),
          batch.map(({ read }) => read.session.sid),
          batch.map(({ read }) => read.session.iat),
          node,
          maxNewsPerRead,
        ],
        { prepare: true },
      ));
    } catch (error) {
      // Once the first round committed, a later one that fails is its own reads' outcome: a
      // throw would fail the reads the first round answered (and marked read) too.
      if (number === 0) throw error;
      for (const { index } of batch) outcomes[index] = { error };
      continue;
    }
    const rowsOf = batch.map(() => [] as typeof rows);
    for (const row of rows) rowsOf[Number(row.ord) - 1]?.push(row);
    for (const [i, { index, read }] of batch.entries()) {
      outcomes[index] = outcomeOf(read, rowsOf[i] ?? []);
    }
  }
  return outcomes;
}

/** A read's outcome from its rows: its gate's refusal, or its items. */
function outcomeOf(read: NewsRead, rows: readonly ReadRow[]): Outcome<NewsView[]> {
  const gate = rows[0];
  if (gate === undefined) return { error: new Error('a read returned not even its gate row') };
  try {
    checkGate(gate, read.area, read.session.iat);
  } catch (error) {
    return { error };
  }
  // The gate's row alone when nothing was picked; else one row per item, every column set.
  return { value: rows.flatMap((row) => (row.id === null ? [] : [toView(row as NewsRow)])) };
}

/**
 * The reads' indexes in rounds, no round with two reads of one user in one area; the first
 * round has most of them (all, but for a user reading an area twice at once).
 */
function roundsOf(reads: readonly NewsRead[]): number[][] {
  const rounds: { indexes: number[]; pairs: Set<string> }[] = [];
  for (const [index, read] of reads.entries()) {
    const pair = pairOf(read.session.sub, read.area);
    let round = rounds.find(({ pairs }) => !pairs.has(pair));
    if (round === undefined) {
      round = { indexes: [], pairs: new Set() };
      rounds.push(round);
    }
    round.indexes.push(index);
    round.pairs.add(pair);
  }
  return rounds.map(({ indexes }) => indexes);
}

/**
 * A round of reads: `$1`..`$6` one element per read (user, area name, unread only, after,
 * session id, issued at), `$7` the node, `$8` the page size.
 */
const readStatement = `WITH gate AS (
       SELECT incoming.*, a.id AS area_id,
         EXISTS (SELECT 1 FROM news_revoked_sessions r WHERE r.sid = incoming.sid) AS revoked,
         (SELECT extract(epoch FROM u.sessions_valid_after)::float8 FROM news_users u
          WHERE u.id = incoming.user_id) AS valid_after,
         EXISTS (
           SELECT 1 FROM news_assignments s WHERE s.area_id = a.id AND s.node_address = $7
         ) AS served
       FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::bigint[], $5::text[],
                   $6::float8[])
         WITH ORDINALITY AS incoming(user_id, area_name, unread, after, sid, issued_at, ord)
       LEFT JOIN news_areas a ON a.name = incoming.area_name
     ), allowed AS (
       SELECT g.ord, g.user_id, g.area_id, g.unread, g.after, coalesce((
           SELECT t.read_through FROM news_read_through t
           WHERE t.user_id = g.user_id AND t.area_id = g.area_id
         ), '0'::xid8) AS read_through
       FROM gate g
       WHERE NOT g.revoked AND (g.valid_after IS NULL OR g.valid_after <= g.issued_at)
         AND g.served
     ), picked AS (
       SELECT r.ord, r.user_id, p.* FROM allowed r CROSS JOIN LATERAL (
         -- Unread: only what was posted since the user's read-through is looked at (OFFSET 0
         -- keeps the planner from walking the whole area in id order for the LIMIT), so a
         -- read costs what is new, not the size of the area.
         (SELECT * FROM (
            SELECT i.id, i.area_id, i.author_id, i.body, i.posted_at, i.inserted_by,
                   false AS was_read
            FROM news_items i
            WHERE r.unread AND i.area_id = r.area_id AND i.inserted_by >= r.read_through
              AND i.author_id <> r.user_id AND i.id > r.after
            OFFSET 0
          ) unread
          -- A lookup per candidate, not a join the planner could make by reading all marks.
          WHERE (SELECT true FROM news_reads m
                 WHERE m.user_id = r.user_id AND m.news_id = unread.id) IS NULL
          ORDER BY id
          LIMIT $8)
         UNION ALL
         -- All: every item after the read's last one, read or not, a page in id order.
         (SELECT i.id, i.area_id, i.author_id, i.body, i.posted_at, i.inserted_by,
                 (m.user_id IS NOT NULL OR i.author_id = r.user_id
                  OR i.inserted_by < r.read_through) AS was_read
          FROM news_items i
          LEFT JOIN news_reads m ON m.news_id = i.id AND m.user_id = r.user_id
          WHERE NOT r.unread AND i.area_id = r.area_id AND i.id > r.after
          ORDER BY i.id
          LIMIT $8)
       ) p
     ), horizon AS (
       -- Every unread item a read could see is now read: so is every item of a transaction
       -- older than the oldest one still running (each of those is visible, or rolled back).
       -- Only a read from the start, not cut short by the limit, that read something new,
       -- moves its read-through there; it has a row only then.
       SELECT r.ord, r.user_id, r.area_id, pg_snapshot_xmin(pg_current_snapshot()) AS read_through
       FROM allowed r
       JOIN (SELECT ord, count(*) AS n, bool_or(NOT was_read) AS fresh FROM picked GROUP BY ord)
         AS seen ON seen.ord = r.ord
       WHERE r.after = 0 AND seen.n < $8 AND seen.fresh
     ), marked AS (
       -- Marks only for what the read-through will not cover: most items of a read need none.
       INSERT INTO news_reads (user_id, news_id)
       SELECT p.user_id, p.id FROM picked p LEFT JOIN horizon h ON h.ord = p.ord
       WHERE NOT p.was_read AND NOT coalesce(p.inserted_by < h.read_through, false)
       ON CONFLICT DO NOTHING
     ), advanced AS (
       INSERT INTO news_read_through (user_id, area_id, read_through)
       SELECT user_id, area_id, read_through FROM horizon
       ON CONFLICT (user_id, area_id) DO UPDATE
         SET read_through = greatest(news_read_through.read_through, excluded.read_through)
     )
     SELECT g.ord, g.revoked, g.valid_after, g.area_id::text, g.served,
            p.id::text, a.name AS area, u.name AS author, p.body, p.posted_at, p.was_read
     FROM gate g
     LEFT JOIN (picked p
       JOIN news_areas a ON a.id = p.area_id
       JOIN news_users u ON u.id = p.author_id) ON p.ord = g.ord
     ORDER BY g.ord, p.id`;

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
