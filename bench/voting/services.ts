/**
 * The voting system under test: real Redis and Postgres, a key prefix and a schema per part of
 * the benchmark (so nothing a real deployment shows moves), the services as child processes
 * (`agora run vote|worker|result`), and the clean-up of every key and schema it made.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import pg from 'pg';

import { progress } from '../support/benchmark.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';

/** One part's private state: every Redis key under `prefix`, every table in `schema`. */
export interface Namespace {
  prefix: string;
  schema: string;
}

export type VotingService = 'vote' | 'worker' | 'result';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself, before the script (`--cpu-prof`, for example). */
  nodeArgs?: readonly string[];
}

export class VotingLab {
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** For the benchmark's own reads and writes: pre-filling, polling, counting. */
  readonly redis: Redis;
  readonly sql: pg.Pool;
  readonly #run = randomBytes(4).toString('hex');
  readonly #namespaces: Namespace[] = [];

  private constructor(redisUrl: string, databaseUrl: string) {
    this.redisUrl = redisUrl;
    this.databaseUrl = databaseUrl;
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  }

  /** Connects to both, or fails at once naming the one that does not answer. */
  static async open(): Promise<VotingLab> {
    const lab = new VotingLab(
      process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    );
    try {
      await lab.redis.connect();
      await lab.redis.ping();
    } catch (error) {
      lab.redis.disconnect();
      await lab.sql.end();
      throw new Error(`no Redis answers at ${lab.redisUrl} (${String(error)}); set REDIS_URL`);
    }
    try {
      await lab.sql.query('SELECT 1');
    } catch (error) {
      lab.redis.disconnect();
      await lab.sql.end();
      throw new Error(
        `no Postgres answers at ${lab.databaseUrl} (${String(error)}); set DATABASE_URL`,
      );
    }
    return lab;
  }

  /** A fresh namespace on every call; `part` (lower-case letters) names it for a reader. */
  namespace(part: string): Namespace {
    const name = `${this.#run}_${part}${this.#namespaces.length + 1}`;
    const namespace = { prefix: `agora-bench-voting-${name}:`, schema: `bench_voting_${name}` };
    this.#namespaces.push(namespace);
    return namespace;
  }

  async start(
    service: VotingService,
    namespace: Namespace,
    options: StartOptions = {},
  ): Promise<ServerProcess> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    progress(
      `starting ${service} on ${base} (prefix ${namespace.prefix}, schema ${namespace.schema})`,
    );
    return startServer(`the ${service} service`, {
      args: [...(options.nodeArgs ?? []), agoraCli, 'run', service, '--port', String(port)],
      env: {
        ...process.env,
        REDIS_URL: this.redisUrl,
        DATABASE_URL: this.databaseUrl,
        AGORA_REDIS_PREFIX: namespace.prefix,
        AGORA_DB_SCHEMA: namespace.schema,
        AGORA_VOTE_SECRET: `bench-${this.#run}-vote-secret-of-32-characters-or-more`,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...options.env,
      },
      url: `${base}/`,
      readyUrl: `${base}/readyz`,
    });
  }

  /** Removes one namespace's keys (a stream of a million entries included). */
  async clearKeys(namespace: Namespace): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${namespace.prefix}*`,
        'COUNT',
        1000,
      );
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Every key and schema this run made, then the connections. */
  async close(): Promise<void> {
    try {
      for (const namespace of this.#namespaces) {
        await this.clearKeys(namespace);
        await this.sql.query(
          `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(namespace.schema)} CASCADE`,
        );
      }
    } finally {
      this.redis.disconnect();
      await this.sql.end();
    }
  }
}
