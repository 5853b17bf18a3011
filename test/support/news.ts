/**
 * Helpers for the news tests: an agent and nodes started in this process on free ports over a
 * private Postgres schema (real sockets, real Postgres), or as `agora run` processes.
 */
import pg from 'pg';

import { newsAgentService } from '../../src/news/agent/service.js';
import { NewsClient } from '../../src/news/client/client.js';
import { callNews } from '../../src/news/frame-client.js';
import { newsNodeService } from '../../src/news/node/service.js';
import type { ClientTls } from '../../src/news/tls.js';
import { createLogger } from '../../src/platform/logger.js';
import { type RunningService, startService } from '../../src/platform/runtime.js';
import type { ServiceDefinition } from '../../src/platform/service.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl } from './backends.js';
import { freePort, type ManagedProcess, startAgora, waitFor } from './processes.js';

export const testSecret = 'news-test-secret-at-least-32-characters-long';

export interface NewsCluster {
  agent: string;
  nodes: string[];
  sql: PgSql;
  client(): NewsClient;
  stop(): Promise<void>;
}

/** Env for short test intervals; tests add their own on top. */
export function newsTestEnv(schema: string): Record<string, string> {
  return {
    DATABASE_URL: testDatabaseUrl,
    AGORA_DB_SCHEMA: schema,
    AGORA_NEWS_SECRET: testSecret,
    NEWS_HEALTH_CHECK_MS: '200',
    NEWS_HEARTBEAT_MS: '200',
    NEWS_NODE_DEAD_AFTER_MS: '1500',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
}

export async function startNewsCluster(
  schema: string,
  nodeCount: number,
  extraEnv: Record<string, string> = {},
  /** When the cluster speaks TLS (NEWS_TLS_* in extraEnv): what its clients trust. */
  tls?: ClientTls,
): Promise<NewsCluster> {
  const sql = new PgSql({ url: testDatabaseUrl, schema });
  const logger = createLogger({ level: 'warn', pretty: false });
  const backends = { sql, describe: () => [], close: () => Promise.resolve() };
  const running: RunningService[] = [];
  const start = async (definition: ServiceDefinition, adminVariable: string) => {
    const port = await freePort();
    const env = { ...newsTestEnv(schema), [adminVariable]: String(await freePort()), ...extraEnv };
    running.push(
      await startService(definition, { env, logger, backends, host: '127.0.0.1', port }),
    );
    return `127.0.0.1:${port}`;
  };
  const agent = await start(newsAgentService, 'NEWS_AGENT_ADMIN_PORT');
  const nodes: string[] = [];
  for (let i = 0; i < nodeCount; i++) {
    nodes.push(await start(newsNodeService, 'NEWS_NODE_ADMIN_PORT'));
  }
  for (const address of [agent, ...nodes]) await waitUntilServing(address, 20_000, tls);
  return {
    agent,
    nodes,
    sql,
    client: () => new NewsClient({ agent, retryForMs: 5_000, tls }),
    stop: async () => {
      for (const service of running.reverse()) await service.stop();
      await sql.close();
    },
  };
}

/** `agora run <service>` as a process, on a given port, with its admin port free (or `adminPort`). */
export async function startNewsProcess(
  service: 'news-agent' | 'news-node',
  port: number,
  env: Record<string, string>,
  adminPort?: number,
): Promise<ManagedProcess> {
  const adminVariable = service === 'news-agent' ? 'NEWS_AGENT_ADMIN_PORT' : 'NEWS_NODE_ADMIN_PORT';
  return startAgora(['run', service, '--port', String(port)], {
    env: { ...process.env, ...env, [adminVariable]: String(adminPort ?? (await freePort())) },
  });
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    // uniqueName() makes schema names of [a-z0-9_] only, safe to quote as an identifier.
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Polls `ping` until the agent or node answers it (its schema and secret are ready). */
export async function waitUntilServing(
  address: string,
  timeoutMs = 20_000,
  tls?: ClientTls,
): Promise<void> {
  const ping = () => callNews(address, { op: 'ping' }, { timeoutMs: 1_000, tls });
  await waitFor(() => ping().then(() => true), {
    timeoutMs,
    intervalMs: 50,
    message: `${address} to answer ping`,
  });
}
