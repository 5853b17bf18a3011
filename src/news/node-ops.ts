/**
 * What a node answers: the news operations of the areas assigned to it. It checks the token
 * itself (no call to the agent) and refuses an area it does not serve with `wrong_node`.
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../platform/sql/sql.js';
import type { FrameHandler } from './framing.js';
import { deleteNews, postNews, readNews, servedArea, subscribe, unsubscribe } from './news-store.js';
import {
  idField,
  limits,
  NewsError,
  optionalBoolean,
  optionalText,
  textField,
  type RequestFrame,
} from './protocol.js';
import { authenticate } from './sessions.js';

export const nodeOps = ['ping', 'subscribe', 'unsubscribe', 'news', 'post', 'delete'] as const;

export interface NodeDeps {
  sql: Sql;
  secret: Buffer;
  /** This node's advertised address, its name in `news_assignments`. */
  address: string;
}

export function nodeHandler(deps: NodeDeps): FrameHandler {
  const { sql, secret, address } = deps;
  const area = (frame: RequestFrame) =>
    servedArea(sql, textField(frame, 'area', limits.areaChars), address);

  return async (frame) => {
    if (frame.op === 'ping') return { node: address };
    if (!(nodeOps as readonly string[]).includes(frame.op)) {
      throw new NewsError('unknown_op', `a node has no operation "${frame.op}"`);
    }
    const user = (await authenticate(sql, secret, frame.token)).sub;
    switch (frame.op) {
      case 'subscribe':
        return subscribe(sql, user, await area(frame));
      case 'unsubscribe':
        return unsubscribe(sql, user, await area(frame));
      case 'news': {
        // Every field is checked before the database is asked anything.
        const unread = optionalBoolean(frame, 'unread');
        return readNews(sql, user, await area(frame), unread);
      }
      case 'post': {
        const text = textField(frame, 'text', limits.newsChars);
        const key = optionalText(frame, 'key', limits.keyChars) ?? randomUUID();
        return postNews(sql, user, await area(frame), text, key);
      }
      default:
        return deleteNews(sql, user, idField(frame, 'news'), address);
    }
  };
}
