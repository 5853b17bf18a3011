/**
 * The node registry and area routing, all in Postgres so any agent can answer and an agent
 * restart loses nothing. Nodes announce themselves and heartbeat into `news_nodes`; agents
 * check them, mark dead ones, and keep `news_assignments` as `planAssignments` says, under
 * one advisory lock so several agents never plan at once.
 */
import type { Sql, SqlQueryable } from '../platform/sql/sql.js';
import { type Assignment, type AssignmentPlan, planAssignments } from './agent/routing-plan.js';
import { NewsError } from './protocol.js';

export interface RoutingOptions {
  /** How many live nodes serve each area (fewer when fewer are alive). */
  replicas: number;
  /** A node whose last heartbeat is older than this is not routed to, and is marked dead. */
  deadAfterMs: number;
}

const maxMovesPerPlan = 8;

/** A node's start and each heartbeat: it is alive at `address` now. */
export async function announceNode(sql: SqlQueryable, address: string): Promise<void> {
  await sql.query(
    `INSERT INTO news_nodes (address, alive, last_heartbeat) VALUES ($1, true, now())
     ON CONFLICT (address) DO UPDATE SET alive = true, last_heartbeat = now()`,
    [address],
  );
}

/** A node stopping cleanly leaves at once instead of waiting to be found dead. */
export async function withdrawNode(sql: SqlQueryable, address: string): Promise<void> {
  await sql.query('UPDATE news_nodes SET alive = false WHERE address = $1', [address]);
  await sql.query('DELETE FROM news_assignments WHERE node_address = $1', [address]);
}

export interface NodeState {
  address: string;
  fresh: boolean;
}

/** Nodes believed alive, and whether their heartbeat is recent enough. */
export async function aliveNodes(sql: SqlQueryable, options: RoutingOptions): Promise<NodeState[]> {
  const { rows } = await sql.query<{ address: string; fresh: boolean }>(
    `SELECT address, last_heartbeat > now() - $1 * interval '1 millisecond' AS fresh
     FROM news_nodes WHERE alive ORDER BY address`,
    [options.deadAfterMs],
  );
  return rows;
}

export async function markNodeDead(sql: Sql, address: string, options: RoutingOptions) {
  await markNodeDown(sql, address);
  return rebalance(sql, options);
}

/** Marks a node dead without moving its areas yet (the caller rebalances once after). */
export async function markNodeDown(sql: SqlQueryable, address: string): Promise<void> {
  await sql.query('UPDATE news_nodes SET alive = false WHERE address = $1', [address]);
}

/** Brings assignments in line with the live nodes; returns what changed. */
export async function rebalance(sql: Sql, options: RoutingOptions): Promise<AssignmentPlan> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`news_routing:${sql.schema}`]);
    const live = (await aliveNodes(tx, options)).filter((node) => node.fresh);
    // KEY SHARE: an area removed meanwhile waits for this plan instead of breaking its inserts.
    const { rows: areas } = await tx.query<{ id: string }>(
      'SELECT id::text FROM news_areas FOR KEY SHARE',
    );
    const { rows: current } = await tx.query<{ area: string; node: string }>(
      'SELECT area_id::text AS area, node_address AS node FROM news_assignments',
    );
    const plan = planAssignments({
      liveNodes: live.map((node) => node.address),
      areas: areas.map((area) => area.id),
      current,
      replicas: options.replicas,
      maxMoves: maxMovesPerPlan,
    });
    // Adds first: an area being moved is never without a node in between.
    for (const { area, node } of plan.add) {
      await tx.query(
        `INSERT INTO news_assignments (area_id, node_address) VALUES ($1, $2)
         ON CONFLICT DO NOTHING`,
        [area, node],
      );
    }
    for (const { area, node } of plan.remove) {
      await tx.query('DELETE FROM news_assignments WHERE area_id = $1 AND node_address = $2', [
        area,
        node,
      ]);
    }
    return plan;
  });
}

/** Live nodes serving an area, by its name; throws not_found for an unknown area. */
export async function nodesOfArea(
  sql: SqlQueryable,
  area: string,
  options: RoutingOptions,
): Promise<string[]> {
  const { rows } = await sql.query<{ id: string; node: string | null }>(
    `SELECT a.id::text, n.address AS node
     FROM news_areas a
     LEFT JOIN news_assignments s ON s.area_id = a.id
     LEFT JOIN news_nodes n ON n.address = s.node_address
       AND n.alive AND n.last_heartbeat > now() - $2 * interval '1 millisecond'
     WHERE a.name = $1`,
    [area, options.deadAfterMs],
  );
  if (rows.length === 0) throw new NewsError('not_found', `there is no area "${area}"`);
  return rows.flatMap((row) => (row.node === null ? [] : [row.node]));
}

/** The area a news item belongs to, so `delete <id>` can be routed. */
export async function areaOfNews(sql: SqlQueryable, newsId: string): Promise<string> {
  const { rows } = await sql.query<{ name: string }>(
    'SELECT a.name FROM news_items i JOIN news_areas a ON a.id = i.area_id WHERE i.id = $1',
    [newsId],
  );
  const name = rows[0]?.name;
  if (name === undefined) throw new NewsError('not_found', `there is no news item ${newsId}`);
  return name;
}

/**
 * A live node for the area, chosen at random among those serving it (spreading load over
 * replicas). An area with none is assigned on the spot; with no live node at all, `no_node`.
 * `serving`: the area's nodes as `nodesOfArea` just gave them, so they are not asked twice.
 */
export async function routeArea(
  sql: Sql,
  area: string,
  options: RoutingOptions,
  exclude: ReadonlySet<string> = new Set(),
  serving?: readonly string[],
): Promise<string> {
  let nodes = (serving ?? (await nodesOfArea(sql, area, options))).filter(
    (node) => !exclude.has(node),
  );
  if (nodes.length === 0) {
    await rebalance(sql, options);
    nodes = (await nodesOfArea(sql, area, options)).filter((node) => !exclude.has(node));
  }
  const node = nodes[Math.floor(Math.random() * nodes.length)];
  if (node === undefined) {
    throw new NewsError('no_node', `no live node serves "${area}" right now; try again shortly`);
  }
  return node;
}

export type { Assignment };

/** Every area and the live nodes serving it (none while it waits to be placed), for the console. */
export async function assignmentsByArea(
  sql: SqlQueryable,
): Promise<Record<string, readonly string[]>> {
  const { rows } = await sql.query<{ area: string; node: string | null }>(
    `SELECT a.name AS area, s.node_address AS node
     FROM news_areas a LEFT JOIN news_assignments s ON s.area_id = a.id
     ORDER BY a.name, s.node_address`,
  );
  const byArea: Record<string, string[]> = {};
  for (const { area, node } of rows) {
    const nodes = (byArea[area] ??= []);
    if (node !== null) nodes.push(node);
  }
  return byArea;
}
