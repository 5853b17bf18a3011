/**
 * A stream-consumer service (the voting worker, the election subscriber) from a declaration:
 * the stream, its group and dead-letter stream, how to parse an entry, store a batch and what
 * to announce after the commit. This builds the rest: its settings, its loops, its metrics, its
 * admin port (/healthz, /readyz, /metrics) and a bounded stop.
 *
 * A process may run several loops, each a consumer of its own in the group: while one waits
 * for its transaction to commit, another reads, parses and sends the next batch, so one
 * process keeps Postgres busy instead of leaving it idle between its own commits.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { Counter, Histogram, type Registry } from 'prom-client';

import type { StreamEntry } from '../broker/broker.js';
import type { ConfigOf } from '../config.js';
import { createHttpServer, listen } from '../http/server.js';
import type { ServiceContext, ServiceHandle } from '../service.js';
import type { ConsumerSettings } from './consumer-settings.js';
import { type ConsumerEvent, type ParsedEntry, StreamConsumer } from './stream-consumer.js';

export interface ConsumerServiceOptions<T extends { entryId: string }, R> {
  stream: string;
  group: string;
  /** Where unparseable entries go, with the reason, before they are acked. */
  deadLetterStream: string;
  /** What its log lines call one consumer ("worker", "subscriber"). */
  role: string;
  parse(entry: StreamEntry): ParsedEntry<T>;
  /** Writes the batch idempotently in one transaction; a throw retries the same batch. */
  store(items: readonly T[]): Promise<R>;
  /** Runs beside the ack, once the commit is done: announcements that can be recomputed. */
  afterCommit?(result: R): Promise<void>;
  metrics: ConsumerMetricNames<R>;
}

/** The metric names a consumer service exposes, e.g. `voting_batch_duration_seconds`. */
export interface ConsumerMetricNames<R> {
  /** Prefix of the dead-letter, reclaimed and batch-duration metrics ("voting"). */
  prefix: string;
  /** The counter of stored items, by outcome when `outcomes` is given. */
  stored: { name: string; help: string; outcomes?: (result: R) => Record<string, number> };
}

export async function startConsumerService<T extends { entryId: string }, R>(
  ctx: ServiceContext<ConsumerSettings, readonly ['broker', 'sql']>,
  options: ConsumerServiceOptions<T, R>,
): Promise<ServiceHandle> {
  const { config, logger, signal } = ctx;
  const processName = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const consumers = Array.from({ length: config.concurrency }, (_, index) =>
    config.concurrency === 1 ? processName : `${processName}/${index + 1}`,
  );

  let group = 'waiting for the broker';
  ctx.readiness.add('consumer group', () =>
    group === 'ok' ? Promise.resolve() : Promise.reject(new Error(group)),
  );

  // Its only port is an admin port (no public route), so /readyz gives the reasons.
  const app = await createHttpServer(ctx, { readinessDetail: 'full' });
  const url = await listen(app, ctx.host, ctx.port);

  const observe = consumerMetrics(ctx.metrics, options.metrics);
  const loops = consumers.map(
    (consumer) =>
      new StreamConsumer<T, R>({
        ...options,
        ...loopSettings(config),
        broker: ctx.broker,
        logger: logger.child({ consumer }),
        consumer,
        signal,
        observe,
        onJoined: () => {
          group = 'ok';
        },
      }),
  );
  // The loops start once the schema is there; until then /readyz says what it waits for.
  const running = ctx.schemaReady.then(async () => {
    if (!signal.aborted) await Promise.all(loops.map((loop) => loop.run()));
  });

  logger.info({ consumers, admin: url }, `${ctx.name} consuming ${options.stream}`);
  return {
    url,
    stop: async () => {
      // The runtime aborts the signal first; each loop finishes or hands back its batch.
      await withDeadline(running, config.stopTimeoutMs);
      await app.close();
    },
  };
}

function loopSettings(config: ConfigOf<ConsumerSettings>) {
  const { batchSize, blockMs, reclaimIdleMs } = config;
  return { batchSize, blockMs, reclaimIdleMs };
}

function consumerMetrics<R>(
  registry: Registry,
  names: ConsumerMetricNames<R>,
): (event: ConsumerEvent<R>) => void {
  const { outcomes } = names.stored;
  const stored = new Counter({
    name: names.stored.name,
    help: names.stored.help,
    labelNames: outcomes === undefined ? [] : ['outcome'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: `${names.prefix}_dead_letters_total`,
    help: 'Unparseable stream entries moved to the dead-letter stream.',
    registers: [registry],
  });
  const reclaimed = new Counter({
    name: `${names.prefix}_entries_reclaimed_total`,
    help: 'Stream entries taken over from consumers presumed dead.',
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: `${names.prefix}_batch_duration_seconds`,
    help: 'Time to store one batch in one transaction.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const entryAge = new Histogram({
    name: `${names.prefix}_entry_age_seconds`,
    help: 'Time from an entry being appended to the stream to its commit in Postgres.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return (event) => {
    if (event.kind === 'stored') {
      // A stream id starts with the broker's clock at the append, in milliseconds.
      const now = Date.now();
      for (const id of event.entryIds) {
        // parseInt reads the digits before the dash without cutting a string per entry.
        const appendedAt = Number.parseInt(id, 10);
        if (appendedAt > 0) entryAge.observe(Math.max(0, now - appendedAt) / 1000);
      }
      if (outcomes === undefined) {
        stored.inc(event.items);
      } else {
        for (const [outcome, count] of Object.entries(outcomes(event.result))) {
          if (count > 0) stored.inc({ outcome }, count);
        }
      }
      batchSeconds.observe(event.seconds);
    } else if (event.kind === 'dead-lettered') {
      deadLetters.inc(event.entries);
    } else {
      reclaimed.inc(event.entries);
    }
  };
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
