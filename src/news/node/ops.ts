/**
 * What a node answers: the news operations of the areas assigned to it. It checks the token
 * itself (no call to the agent) and refuses an area it does not serve with `wrong_node`.
 * Subscribes, posts and reads of one event-loop turn are committed together (group commit):
 * the common path (news, post) asks the database once per batch of requests, not per request.
 */
import { randomUUID } from 'node:crypto';

import { GroupCommit } from '../../platform/sql/group-commit.js';
import type { Sql } from '../../platform/sql/sql.js';
import type { FrameHandler } from '../frame-server.js';
import { nameField } from '../names.js';
import {
  idField,
  limits,
  NewsError,
  optionalBoolean,
  optionalText,
  textField,
} from '../protocol.js';
import { authenticate } from '../sessions.js';
import { verifyToken } from '../tokens.js';
import {
  deleteNews,
  type NewPost,
  type NewsRead,
  postNewsMany,
  readNewsMany,
  servedAreaForSession,
  subscribeMany,
  unsubscribe,
} from './news-store.js';

export const nodeOps = ['ping', 'subscribe', 'unsubscribe', 'news', 'post', 'delete'] as const;

export interface NodeDeps {
  sql: Sql;
  secret: Buffer;
  /** This node's advertised address, its name in `news_assignments`. */
  address: string;
}

export function nodeHandler(deps: NodeDeps): FrameHandler {
  const { sql, secret, address } = deps;
  const subscribes = new GroupCommit({ sql: () => sql, writeBatch: subscribeMany });
  // One batch of posts and one of reads in flight at a time: what arrives while a batch
  // commits waits for it and goes as the next, larger batch. Four in flight (the default) split
  // the same requests into more statements and commits, each a Postgres round, a WAL flush and
  // its node-side work: about 40% more Postgres CPU per operation in the benchmark.
  const posts = new GroupCommit({
    sql: () => sql,
    // The batch's one INSERT commits by itself; what follows it only reads.
    commit: 'statement',
    maxInFlight: 1,
    writeBatch: (tx, batch: readonly NewPost[]) => postNewsMany(tx, address, batch),
  });
  // A read writes its read marks: one statement (and one commit) for the reads of a turn.
  const reads = new GroupCommit({
    sql: () => sql,
    commit: 'statement',
    maxInFlight: 1,
    writeBatch: (tx, batch: readonly NewsRead[]) => readNewsMany(tx, address, batch),
  });
  return async (frame) => {
    if (frame.op === 'ping') return { node: address };
    if (!(nodeOps as readonly string[]).includes(frame.op)) {
      throw new NewsError('unknown_op', `a node has no operation "${frame.op}"`);
    }
    if (frame.op === 'delete') {
      // authenticate checks the signature before it queries the database.
      const user = (await authenticate(sql, secret, frame.token)).sub;
      return deleteNews(sql, user, idField(frame, 'news'), address);
    }
    // Every field, and the token's signature, is checked before the database is asked anything.
    const name = nameField(frame, 'area', limits.areaChars);
    const unread = optionalBoolean(frame, 'unread');
    const after = frame.after === undefined ? undefined : idField(frame, 'after');
    const text = frame.op === 'post' ? textField(frame, 'text', limits.newsChars) : '';
    const key = optionalText(frame, 'key', limits.keyChars) ?? randomUUID();
    // The token's signature first; its revocation and the area are checked by the statement
    // that does the work (news, post) or by one of their own (subscribe, unsubscribe).
    const claims = verifyToken(secret, frame.token);
    const areaOf = () => servedAreaForSession(sql, name, address, claims);
    switch (frame.op) {
      case 'news':
        return reads.write({ session: claims, area: name, unreadOnly: unread, after });
      case 'post':
        return posts.write({ session: claims, area: name, text, clientKey: key });
      case 'subscribe':
        return subscribes.write({ userId: claims.sub, areaId: await areaOf() });
      default:
        return unsubscribe(sql, claims.sub, await areaOf());
    }
  };
}
