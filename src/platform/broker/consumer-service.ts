/**
 * How a stream-consumer service starts and stops (the voting worker, the election subscriber):
 * its admin port answers at once, migrations wait for Postgres in the background, then the loop
 * runs; `/readyz` names what it still waits for; stopping lets the batch in flight finish or
 * hand back within a bound.
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
  /** Builds the loop for this process's consumer name; `onJoined` marks the group ready. */
  createLoop(hooks: { consumer: string; logger: Logger; onJoined: () => void }): {
    run(): Promise<void>;
  };
}

export async function startConsumerService(
  ctx: ServiceContext,
  options: ConsumerServiceOptions,
): Promise<ServiceHandle> {
  const { logger, signal } = ctx;
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

  let migrations = 'waiting for the database';
  let group = 'waiting for the broker';
  ctx.readiness.add('migrations', () => readyWhen(migrations));
  ctx.readiness.add('consumer group', () => readyWhen(group));

  const app = createHttpServer(ctx);
  const url = await listen(app, ctx.host, ctx.port);

  const loop = options.createLoop({
    consumer,
    logger: logger.child({ consumer }),
    onJoined: () => {
      group = 'ok';
    },
  });
  // Migrations wait for Postgres in the background: the admin port answers meanwhile.
  const running = migrateWhenReady(ctx.sql, options.system, options.migrations, {
    signal,
    logger,
    onWaiting: (reason) => {
      migrations = reason;
    },
  })
    .then(() => {
      migrations = 'ok';
      return loop.run();
    })
    .catch((error: unknown) => {
      if (signal.aborted) return;
      migrations = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, `the ${options.role} cannot run: its migrations failed`);
    });

  logger.info({ consumer, admin: url }, `${ctx.name} consuming ${options.consumes}`);
  return {
    url,
    stop: async () => {
      // The runtime aborts the signal first; the loop finishes or hands back its batch.
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
