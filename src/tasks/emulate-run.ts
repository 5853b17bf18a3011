/**
 * `agora tasks emulate`: runs the seed's clients side by side against one service, shows each
 * one's progress, reads every client's tasks back, prints a verdict and returns the exit code.
 */
import { randomBytes } from 'node:crypto';

import cliProgress from 'cli-progress';

import { formatTable } from '../platform/table.js';
import { TasksClient } from './client.js';
import { type ClientVerdict, isSound, judge, type SendOutcome, sendTasks } from './emulate.js';

export interface EmulateOptions {
  url: string;
  clients: number;
  tasks: number;
  concurrency: number;
  maxAttempts: number;
  /** Clients are `<prefix>-1`, `<prefix>-2`, ...; random by default so runs never mix. */
  clientPrefix?: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function runEmulation(options: EmulateOptions): Promise<number> {
  const prefix = options.clientPrefix ?? `emulator-${randomBytes(3).toString('hex')}`;
  const ids = Array.from({ length: options.clients }, (_, index) => `${prefix}-${index + 1}`);
  options.stdout.write(
    `${options.clients} clients x ${options.tasks} tasks, ${options.concurrency} in flight ` +
      `per client, against ${options.url}\n`,
  );

  // Bars redraw in place: on a terminal only; logs and CI get the summary table alone.
  const bars = options.stderr.isTTY === true ? progressBars(options.stderr) : undefined;
  const started = performance.now();
  const outcomes = await Promise.all(
    ids.map(async (clientId) => {
      const counts = { acknowledged: 0, failed: 0, retries: 0 };
      const bar = bars?.create(options.tasks, 0, { client: clientId, ...counts });
      const client = new TasksClient(options.url, {
        clientId,
        connections: options.concurrency,
      });
      try {
        return await sendTasks(client, {
          clientId,
          tasks: options.tasks,
          concurrency: options.concurrency,
          maxAttempts: options.maxAttempts,
          onProgress: (progress) => {
            bar?.update(progress.acknowledged + progress.failed, {
              client: clientId,
              acknowledged: progress.acknowledged,
              failed: progress.failed,
              retries: progress.retries,
            });
          },
        });
      } finally {
        await client.close();
      }
    }),
  );
  bars?.stop();
  const seconds = (performance.now() - started) / 1000;

  const reader = new TasksClient(options.url);
  let verdicts: ClientVerdict[];
  try {
    verdicts = await Promise.all(
      outcomes.map(async (outcome) =>
        judge(outcome, await reader.listAll({ client: outcome.clientId })),
      ),
    );
  } finally {
    await reader.close();
  }
  options.stdout.write(`${summary(outcomes, verdicts)}\n`);
  const acknowledged = outcomes.reduce((sum, outcome) => sum + outcome.acknowledged, 0);
  options.stdout.write(
    `${acknowledged} acknowledged in ${seconds.toFixed(1)} s (${Math.round(acknowledged / seconds)} tasks/s)\n`,
  );
  for (const outcome of outcomes) {
    for (const failure of outcome.failures)
      options.stdout.write(`  ${outcome.clientId} failed ${failure}\n`);
  }
  return verdictLine(outcomes, verdicts, options.stdout);
}

function progressBars(stream: NodeJS.WritableStream): cliProgress.MultiBar {
  return new cliProgress.MultiBar(
    {
      stream,
      format:
        '{client} [{bar}] {value}/{total} acked {acknowledged} failed {failed} retries {retries}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
}

function summary(outcomes: readonly SendOutcome[], verdicts: readonly ClientVerdict[]): string {
  const rows = outcomes.map((outcome, index) => {
    const verdict = verdicts[index];
    return [
      outcome.clientId,
      String(outcome.sent),
      String(outcome.acknowledged),
      String(outcome.failed),
      String(outcome.retries),
      String(verdict?.stored ?? '-'),
      String(verdict?.lost.length ?? '-'),
      String(verdict?.duplicates.length ?? '-'),
    ];
  });
  return formatTable(
    ['client', 'sent', 'acknowledged', 'failed', 'retries', 'stored', 'lost', 'duplicates'],
    rows,
  );
}

/** Prints the verdict; 0 when every task was acknowledged and stored exactly once. */
function verdictLine(
  outcomes: readonly SendOutcome[],
  verdicts: readonly ClientVerdict[],
  out: NodeJS.WritableStream,
): number {
  const total = (pick: (verdict: ClientVerdict) => number) =>
    verdicts.reduce((sum, verdict) => sum + pick(verdict), 0);
  const lost = total((verdict) => verdict.lost.length);
  const duplicates = total((verdict) => verdict.duplicates.length);
  const mismatched = total((verdict) => verdict.mismatched.length);
  const failed = outcomes.reduce((sum, outcome) => sum + outcome.failed, 0);
  const acknowledged = total((verdict) => verdict.acknowledged);
  for (const verdict of verdicts) {
    if (!isSound(verdict)) {
      const sample = [...verdict.lost, ...verdict.duplicates, ...verdict.mismatched].slice(0, 5);
      out.write(`  ${verdict.clientId}: ${sample.join(', ')}\n`);
    }
  }
  if (lost + duplicates + mismatched > 0) {
    out.write(
      `FAIL: ${lost} acknowledged tasks lost, ${duplicates} duplicated, ${mismatched} stored under another id\n`,
    );
    return 1;
  }
  if (failed > 0) {
    out.write(
      `INCOMPLETE: all ${acknowledged} acknowledged tasks are stored exactly once, but ${failed} were never acknowledged\n`,
    );
    return 1;
  }
  out.write(`PASS: all ${acknowledged} tasks acknowledged and stored exactly once\n`);
  return 0;
}
