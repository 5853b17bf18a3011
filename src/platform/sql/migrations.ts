/**
 * Versioned schema migrations, applied at start. Each system lists its migrations in order;
 * `migrate` applies the missing ones in one transaction under an advisory lock, so several
 * replicas starting at once apply each migration exactly once and none sees a half-made schema.
 */
import type { Sql } from './sql.js';

export interface Migration {
  /** 1, 2, 3, ... in order; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  /** One or more SQL statements. */
  sql: string;
}
