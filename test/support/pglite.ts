/**
 * In-memory PGlite databases for tests that open many: each starts from a dump of an empty
 * cluster made once per test process, so it skips initdb (about 2 s of each open here).
 */
import { PGlite } from '@electric-sql/pglite';

import { PgliteSql } from '../../src/platform/sql/pglite.js';

let emptyCluster: Promise<Blob> | undefined;

/** `PgliteSql.open({ schema })` in memory, from the shared dump of an empty cluster. */
export async function openMemoryPglite(schema: string): Promise<PgliteSql> {
  emptyCluster ??= dumpEmptyCluster();
  return PgliteSql.open({ schema, loadDataDir: await emptyCluster });
}

async function dumpEmptyCluster(): Promise<Blob> {
  const db = await PGlite.create();
  try {
    return await db.dumpDataDir('none');
  } finally {
    await db.close();
  }
}
