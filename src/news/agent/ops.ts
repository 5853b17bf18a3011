/**
 * What the agent answers: accounts and sessions, the list of areas and of a user's
 * subscriptions, admin area operations, and routing (which node serves an area).
 */
import { isUniqueViolation } from '../../platform/sql/errors.js';
import type { Sql } from '../../platform/sql/sql.js';
import {
  createAdmin,
  endAllSessions,
  findUser,
  login,
  registerUser,
  requireAdmin,
} from '../accounts.js';
import type { FrameHandler } from '../frame-server.js';
import { nameField, nameKey, userNameField } from '../names.js';
import {
  type AreaView,
  idField,
  limits,
  NewsError,
  passwordField,
  type RequestFrame,
  type RouteResult,
  textField,
} from '../protocol.js';
import {
  areaOfNews,
  markNodeDown,
  nodesOfArea,
  rebalance,
  routeArea,
  type RoutingOptions,
} from '../routing.js';
import { authenticate, revokeSession } from '../sessions.js';
import { verifyToken } from '../tokens.js';
import type { LoginGuard } from './login-guard.js';
import { RouteCache } from './route-cache.js';

export const agentOps = [
  'ping',
  'register',
  'login',
  'logout',
  'logout_all',
  'whoami',
  'areas',
  'my_areas',
  'route',
  'add_area',
  'remove_area',
] as const;

export interface AgentDeps {
  sql: Sql;
  secret: Buffer;
  routing: RoutingOptions;
  tokenTtlSeconds: number;
  /** Backoff after failed logins, and the cap on password hashes in flight. */
  guard: LoginGuard;
  /** Is the node at this address answering? Used when a client reports it down. */
  pingNode(address: string): Promise<boolean>;
}

/**
 * How old the agent's copy of the routing table may be. The agent's own changes (a reported
 * node found dead, an area added or removed) refresh it at once; another agent's, or the
 * health check's, reach it within this.
 */
const routeCacheMs = 250;

export function agentHandler(deps: AgentDeps): FrameHandler {
  const { sql, secret } = deps;
  const session = (frame: RequestFrame) => authenticate(sql, secret, frame.token);
  const routes = new RouteCache({ sql, routing: deps.routing, maxAgeMs: routeCacheMs });

  return async (frame, peer) => {
    const { address } = peer;
    switch (frame.op) {
      case 'ping':
        return { service: 'news-agent' };
      case 'register': {
        const name = userNameField(frame);
        const password = passwordField(frame);
        return deps.guard.attempt({ address }, async () => {
          await registerUser(sql, name, password);
          return login(sql, secret, name, password, deps.tokenTtlSeconds);
        });
      }
      case 'login': {
        const name = userNameField(frame);
        const password = passwordField(frame);
        return deps.guard.attempt({ name, address }, () =>
          login(sql, secret, name, password, deps.tokenTtlSeconds),
        );
      }
      case 'logout':
        await revokeSession(sql, await session(frame));
        return { loggedOut: true };
      case 'logout_all':
        await endAllSessions(sql, (await session(frame)).sub);
        return { loggedOut: true, everywhere: true };
      case 'whoami':
        return findUser(sql, (await session(frame)).sub);
      case 'areas':
        return listAreas(sql, (await session(frame)).sub, false);
      case 'my_areas':
        return listAreas(sql, (await session(frame)).sub, true);
      case 'route':
        // The signature and expiry only: a route tells where an area is served, and the node
        // it names checks the session's revocation on the request that follows.
        verifyToken(secret, frame.token);
        return route(deps, routes, frame);
      case 'add_area':
        await requireAdmin(sql, (await session(frame)).sub);
        try {
          return await addArea(deps, nameField(frame, 'name', limits.areaChars));
        } finally {
          routes.invalidate();
        }
      case 'remove_area':
        await requireAdmin(sql, (await session(frame)).sub);
        try {
          return await removeArea(sql, textField(frame, 'name', limits.areaChars));
        } finally {
          routes.invalidate();
        }
      default:
        throw new NewsError('unknown_op', `the agent has no operation "${frame.op}"`);
    }
  };
}

async function listAreas(sql: Sql, userId: string, onlySubscribed: boolean): Promise<AreaView[]> {
  const { rows } = await sql.query<{
    name: string;
    subscribed: boolean;
    nodes: string[] | null;
    news: number;
  }>(
    `SELECT a.name, (s.user_id IS NOT NULL) AS subscribed,
            ARRAY(SELECT node_address FROM news_assignments x
                  WHERE x.area_id = a.id ORDER BY node_address) AS nodes,
            (SELECT count(*) FROM news_items i WHERE i.area_id = a.id)::int AS news
     FROM news_areas a
     LEFT JOIN news_subscriptions s ON s.area_id = a.id AND s.user_id = $1
     WHERE ($2::boolean = false OR s.user_id IS NOT NULL)
     ORDER BY a.name`,
    [userId, onlySubscribed],
  );
  return rows.map((row) => ({
    name: row.name,
    subscribed: row.subscribed,
    nodes: row.nodes ?? [],
    news: row.news,
  }));
}

/**
 * A node for an area (or for the area of a news item). Nodes the client reports as failing
 * are pinged now rather than at the next health check, so failover takes one round trip.
 * The common case (an area, nothing reported) is answered from the agent's copy of the table.
 */
async function route(
  deps: AgentDeps,
  routes: RouteCache,
  frame: RequestFrame,
): Promise<RouteResult> {
  const reported = failedNodes(frame);
  if (frame.news === undefined && reported.length === 0) {
    const area = textField(frame, 'area', limits.areaChars);
    const nodes = await routes.nodesOf(area);
    const node = nodes?.[Math.floor(Math.random() * nodes.length)];
    if (node !== undefined) return { area, node };
  }
  const area =
    frame.news === undefined
      ? textField(frame, 'area', limits.areaChars)
      : await areaOfNews(deps.sql, idField(frame, 'news'));
  // Only the area's own nodes are pinged: any other address a client names is ignored, so the
  // agent never connects where a client points it.
  const serving = new Set(await nodesOfArea(deps.sql, area, deps.routing));
  const dead = new Set<string>();
  for (const address of reported) {
    if (!serving.has(address) || (await deps.pingNode(address))) continue;
    dead.add(address);
    await markNodeDown(deps.sql, address);
  }
  if (dead.size > 0) {
    await rebalance(deps.sql, deps.routing);
    routes.invalidate();
  }
  // Unless the plan just changed, the nodes read above are the area's nodes now.
  const known = dead.size === 0 ? [...serving] : undefined;
  return { area, node: await routeArea(deps.sql, area, deps.routing, dead, known) };
}

function failedNodes(frame: RequestFrame): string[] {
  const value = frame.failed;
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 16 || !value.every((v) => typeof v === 'string')) {
    throw new NewsError('invalid_request', 'field "failed" must be a list of up to 16 addresses');
  }
  return value;
}

async function addArea(deps: AgentDeps, name: string) {
  try {
    await deps.sql.query('INSERT INTO news_areas (name) VALUES ($1)', [name]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new NewsError('name_taken', `there is already an area "${name}"`);
    }
    throw error;
  }
  // The new area goes to the least-loaded live nodes now, not at the next health check.
  await rebalance(deps.sql, deps.routing);
  return { area: name };
}

async function removeArea(sql: Sql, name: string) {
  // Its news, subscriptions, read marks and assignments go with it (ON DELETE CASCADE).
  const { rowCount } = await sql.query('DELETE FROM news_areas WHERE name = $1', [name]);
  if (rowCount === 0) throw new NewsError('not_found', `there is no area "${name}"`);
  return { removed: name };
}

/**
 * The container way to get a first admin: NEWS_ADMIN_NAME and NEWS_ADMIN_PASSWORD. Returns
 * false, changing nothing, when an ordinary user already holds that name.
 */
export async function bootstrapAdmin(
  sql: Sql,
  configured: string,
  password: string,
): Promise<boolean> {
  // Stored as login reads it, so the admin can log in with the name it was given.
  const name = userNameField({ v: 1, id: 0, op: 'bootstrap', name: configured });
  const { rowCount } = await sql.query(
    'SELECT 1 FROM news_users WHERE (name_key = $2 OR name = $1) AND is_admin',
    [name, nameKey(name)],
  );
  if (rowCount !== 0) return true;
  try {
    await createAdmin(sql, name, password);
    return true;
  } catch (error) {
    if (error instanceof NewsError && error.code === 'name_taken') return false;
    throw error;
  }
}
