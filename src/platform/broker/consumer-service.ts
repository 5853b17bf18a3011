/**
 * How a stream-consumer service starts and stops (the voting worker, the election subscriber):
 * its admin port answers at once, migrations wait for Postgres in the background, then the
 * loops run; `/readyz` names what it still waits for; stopping lets the batches in flight
 * finish or hand back within a bound.
 *
 * A process may run several loops, each a consumer of its own in the group: while one waits
 * for its transaction to commit, another reads, parses and sends the next batch, so one
 * process keeps Postgres busy instead of leaving it idle between its own commits.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createHttpServer, listen } from '../http/server.js';
import type { Logger } from '../logger.js';
import type { ServiceContext, ServiceHandle } from '../service.js';
import { migrateWhenReady, type Migration } from '../sql/migrations.js';

export interface ConsumerServiceOptions {
  system: string;
  migrations: readonly Migration[];
  /** What its log lines call it ("worker", "subscriber") and what it consumes ("votes"). */
  role: string;
  consumes: string;
  stopTimeoutMs: number;
  /** How many loops (consumers in the group) the process runs side by side; default 1. */
  concurrency?: number;
  /** Builds one loop for a consumer name of this process; `onJoined` marks the group ready. */
  createLoop(hooks: { consumer: string; logger: Logger; onJoined: () => void }): {
    run(): Promise<void>;
  };
}

export async function startConsumerService(
  ctx: ServiceContext,
  options: ConsumerServiceOptions,
): Promise<ServiceHandle> {
  const { logger, signal } = ctx;
  const processName = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const concurrency = options.concurrency ?? 1;
  const consumers = Array.from({ length: concurrency }, (_, index) =>
    concurrency === 1 ? processName : `${processName}/${index + 1}`,
  );

  let migrations = 'waiting for the database';
  let group = 'waiting for the broker';
  ctx.readiness.add('migrations', () => readyWhen(migrations));
  ctx.readiness.add('consumer group', () => readyWhen(group));

  const app = createHttpServer(ctx);
  const url = await listen(app, ctx.host, ctx.port);

  const loops = consumers.map((consumer) =>
    options.createLoop({
      consumer,
      logger: logger.child({ consumer }),
      onJoined: () => {
        group = 'ok';
      },
    }),
  );
  // Migrations wait for Postgres in the background: the admin port answers meanwhile.
  const running = migrateWhenReady(ctx.sql, options.system, options.migrations, {
    signal,
    logger,
    onWaiting: (reason) => {
      migrations = reason;
    },
  })
    .then(async () => {
      migrations = 'ok';
      await Promise.all(loops.map((loop) => loop.run()));
    })
    .catch((error: unknown) => {
      if (signal.aborted) return;
      migrations = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, `the ${options.role} cannot run: its migrations failed`);
    });

  logger.info({ consumers, admin: url }, `${ctx.name} consuming ${options.consumes}`);
  return {
    url,
    stop: async () => {
      // The runtime aborts the signal first; each loop finishes or hands back its batch.
      await withDeadline(running, options.stopTimeoutMs);
      await app.close();
    },
  };
}

function readyWhen(state: string): Promise<void> {
  return state === 'ok' ? Promise.resolve() : Promise.reject(new Error(state));
}

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
