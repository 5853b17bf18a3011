// One of the racing processes of src/platform/sql/migrate-processes.test.ts: connects, prints
// "ready", waits for a line on stdin (so all start together), migrates, prints {"applied": n}.
// Plain JavaScript over the compiled code, since Node 20 cannot run TypeScript: npm run build.
// Usage: node migrate-child.mjs <database url> <schema>
import { createInterface } from 'node:readline';

import { migrate, openSql } from '../../dist/src/platform/sql/index.js';

/** Each migration logs its version and this process, so the test sees who applied what. */
const migrations = [1, 2, 3].map((version) => ({
  version,
  name: `step ${version}`,
  sql:
    (version === 1 ? 'CREATE TABLE migration_log (version integer, pid integer); ' : '') +
    `INSERT INTO migration_log VALUES (${version}, ${process.pid})`,
}));

const [url, schema] = process.argv.slice(2);
const sql = await openSql({ url, schema });
try {
  await sql.ping();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  lines.close();
  const applied = await migrate(sql, 'race', migrations);
  process.stdout.write(`${JSON.stringify({ applied })}\n`);
} finally {
  await sql.close();
}
