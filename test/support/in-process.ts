/**
 * Starts one registered service inside the test process on its own free ports, over real
 * Redis and Postgres in a key prefix and schema of its own, and returns how to remove it all.
 */
import { RedisBroker } from '../../src/platform/broker/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { type RunningService, startService } from '../../src/platform/runtime.js';
import type { ServiceDefinition } from '../../src/platform/service.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, testRedisUrl, testVoteSecret, uniqueName } from './backends.js';
import { freePort } from './processes.js';

export interface InProcessService {
  service: RunningService;
  /** The service's own schema and key prefix, for tests that look at what it stored. */
  sql: PgSql;
  broker: RedisBroker;
  /** Stops the service, drops its schema and closes its connections. */
  remove: () => Promise<void>;
}

export async function startInProcess(
  definition: ServiceDefinition,
  options: { label: string; databaseUrl?: string; env?: Record<string, string> },
): Promise<InProcessService> {
  const schema = uniqueName(options.label);
  const sql = new PgSql({ url: options.databaseUrl ?? testDatabaseUrl, schema });
  const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: `${schema}:` });
  const env: Record<string, string> = { AGORA_VOTE_SECRET: testVoteSecret, ...options.env };
  if (definition.admin !== undefined) env[definition.admin.variable] = String(await freePort());
  const service = await startService(definition, {
    env,
    logger: createLogger({ level: 'silent' }),
    backends: { sql, broker, describe: () => [], close: () => Promise.resolve() },
    host: '127.0.0.1',
    port: 0,
  });
  return {
    service,
    sql,
    broker,
    remove: async () => {
      await service.stop();
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await Promise.all([sql.close(), broker.close()]);
    },
  };
}
