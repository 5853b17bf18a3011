/**
 * `agora run <service> --cluster N`: N replicas of one service sharing one port through Node's
 * `cluster` module, for services declared `scaling: 'shared-port'`. The primary only forks,
 * watches and stops workers (Node hands it the connections to spread over them); a worker that
 * dies after it was serving is forked again, one that never got to serve stops everything.
 */
import cluster, { type Worker } from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelay } from '../platform/backoff.js';
import type { Env } from '../platform/config.js';
import { UsageError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { ServiceDefinition } from '../platform/service.js';
import { prepare } from './in-process.js';
import { missingMallocSettings } from './malloc.js';

export interface ClusterOptions {
  env: Env;
  workers: number;
  /** For the start-up line only: the workers parse the same command line and bind it. */
  port: number;
  /** Embedded backends live inside one process: workers cannot share them. */
  embedded: boolean;
}

/** A worker that served for this long before dying resets the re-fork backoff. */
const stableMs = 10_000;

export function assertShareable(definition: ServiceDefinition): void {
  if (definition.scaling !== 'shared-port') {
    throw new UsageError(
      `${definition.name} cannot run as a cluster: its definition does not declare scaling: 'shared-port'`,
    );
  }
}

/** Runs in the primary: forks the workers, which re-run this command line as cluster workers. */
export function runClusterPrimary(definition: ServiceDefinition, options: ClusterOptions): void {
  assertShareable(definition);
  if (options.embedded && definition.needs.length > 0) {
    throw new UsageError('--cluster cannot use --embedded: workers must share real backends');
  }
  const { config, logger } = prepare([definition], options.env);
  const log = logger.child({ service: definition.name, primary: process.pid });
  const replicaOf = new Map<Worker, number>();
  const listenedAt = new Map<Worker, number>();
  let stopping = false;
  let quickDeaths = 0;

  const fork = (replica: number) => {
    const worker = cluster.fork({
      ...missingMallocSettings(options.env),
      AGORA_REPLICA: String(replica),
    });
    replicaOf.set(worker, replica);
    // Serving means listening on the service's own port: its admin port listens first.
    worker.on('listening', (address) => {
      if (options.port !== 0 && address.port !== options.port) return;
      if (!listenedAt.has(worker)) listenedAt.set(worker, Date.now());
    });
    worker.once('exit', (code, signal) => {
      void onExit(worker, code, signal);
    });
  };

  const onExit = async (worker: Worker, code: number | null, signal: string | null) => {
    const replica = replicaOf.get(worker) ?? 0;
    const listened = listenedAt.get(worker);
    replicaOf.delete(worker);
    listenedAt.delete(worker);
    if (stopping) return;
    const pid = worker.process.pid;
    if (listened === undefined) {
      log.error({ replica, pid, code, signal }, 'a worker died before it served; stopping');
      await stopAll(1);
      return;
    }
    quickDeaths = Date.now() - listened < stableMs ? quickDeaths + 1 : 0;
    const delayMs = quickDeaths === 0 ? 0 : backoffDelay(quickDeaths, { initialMs: 200 });
    log.warn({ replica, pid, code, signal, delayMs }, `worker ${replica} died; forking it again`);
    await sleep(delayMs);
    // A signal may have come during the wait.
    if (!(stopping as boolean)) fork(replica);
  };

  /** SIGTERM to every worker (each stops gracefully), SIGKILL to those past the deadline. */
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(workers.map((worker) => stopWorker(worker, config.shutdownTimeoutMs, log)));
    process.exit(exitCode);
  };

  for (let replica = 1; replica <= options.workers; replica++) fork(replica);
  log.info(
    { workers: options.workers, port: options.port },
    `${definition.name}: ${options.workers} cluster workers share port ${options.port}`,
  );
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
}

async function stopWorker(worker: Worker, timeoutMs: number, logger: Logger): Promise<void> {
  if (worker.isDead()) return;
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      resolve();
    });
  });
  worker.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn({ pid: worker.process.pid }, 'worker did not stop in time; killing it');
    worker.process.kill('SIGKILL');
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}
