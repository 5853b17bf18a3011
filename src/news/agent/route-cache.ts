/**
 * The agent's copy of the routing table (each area's live nodes), read from Postgres in one
 * statement at most every `maxAgeMs`, so a `route` asks the database nothing. A stale entry
 * costs a retry, never a wrong answer: a node checks its assignment on every request
 * (`wrong_node`), and a client that cannot reach a node reports it, which the agent answers
 * from the database.
 */
import type { SqlQueryable } from '../../platform/sql/sql.js';
import type { RoutingOptions } from '../routing.js';

export interface RouteCacheOptions {
  sql: SqlQueryable;
  routing: RoutingOptions;
  /** How old a copy may be before the next route reads the table again. */
  maxAgeMs: number;
}

type Table = ReadonlyMap<string, readonly string[]>;

export class RouteCache {
  readonly #options: RouteCacheOptions;
  #table: Table | undefined;
  #readAt = 0;
  #reading: Promise<Table> | undefined;
  /** Bumped by `invalidate`, so a read that began before a change is not kept after it. */
  #generation = 0;

  constructor(options: RouteCacheOptions) {
    this.#options = options;
  }

  /**
   * The live nodes of `area` as of at most `maxAgeMs` ago; undefined when the copy does not
   * know the area (added since, or no such area: the caller asks the database).
   */
  async nodesOf(area: string): Promise<readonly string[] | undefined> {
    const table = await this.#current();
    return table.get(area);
  }

  /** Forgets the copy: the agent itself just changed the routing table. */
  invalidate(): void {
    this.#generation += 1;
    this.#table = undefined;
    this.#reading = undefined;
  }

  #current(): Promise<Table> {
    if (this.#table !== undefined && performance.now() - this.#readAt < this.#options.maxAgeMs) {
      return Promise.resolve(this.#table);
    }
    // One read at a time: the routes that arrive meanwhile wait for it.
    if (this.#reading === undefined) {
      const generation = this.#generation;
      const startedAt = performance.now();
      const reading = readTable(this.#options.sql, this.#options.routing).then(
        (table) => {
          if (generation === this.#generation) {
            this.#table = table;
            this.#readAt = startedAt;
          }
          if (this.#reading === reading) this.#reading = undefined;
          return table;
        },
        (error: unknown) => {
          if (this.#reading === reading) this.#reading = undefined;
          throw error;
        },
      );
      this.#reading = reading;
    }
    return this.#reading;
  }
}

/** Every area by name with its live nodes (as `nodesOfArea` judges them), in one statement. */
async function readTable(sql: SqlQueryable, routing: RoutingOptions): Promise<Table> {
  const { rows } = await sql.query<{ name: string; nodes: string[] }>(
    `SELECT a.name, ARRAY(
       SELECT n.address FROM news_assignments s
       JOIN news_nodes n ON n.address = s.node_address
       WHERE s.area_id = a.id AND n.alive
         AND n.last_heartbeat > now() - $1 * interval '1 millisecond'
       ORDER BY n.address
     ) AS nodes
     FROM news_areas a`,
    [routing.deadAfterMs],
  );
  return new Map(rows.map((row) => [row.name, row.nodes]));
}
