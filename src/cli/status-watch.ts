/**
 * `agora status --watch`: the console's health, rate and queue figures as a terminal table,
 * redrawn every interval, from the console of a running `agora up` (AGORA_CONSOLE_URL, or
 * 127.0.0.1:AGORA_CONSOLE_PORT). Without a console it shows what each `/readyz` says.
 */
import type { ProcessRow, QueueFigures, Snapshot } from '../console/snapshot.js';
import { describeWait } from '../console/waits.js';
import type { Env } from '../platform/config.js';
import type { ServiceDefinition } from '../platform/service.js';
import { formatTable } from '../platform/table.js';
import { probe } from './status.js';

const dash = '-';
const fixed = (value: number | undefined, digits = 0, unit = '') =>
  value === undefined ? dash : `${value.toFixed(digits)}${unit}`;

export function processTable(rows: readonly ProcessRow[]): string {
  return formatTable(
    [
      'process',
      'state',
      'pid',
      'up',
      'restarts',
      'rss',
      'cpu',
      'req/s',
      'errors',
      'p99',
      'waits for',
    ],
    rows.map((row) => [
      row.label,
      row.readiness,
      String(row.pid ?? dash),
      fixed(row.uptimeSeconds, 0, 's'),
      String(row.restarts),
      row.rssBytes === undefined ? dash : `${Math.round(row.rssBytes / 1_048_576)}MB`,
      fixed(row.cpuPercent, 0, '%'),
      fixed(row.requestsPerSecond, 1),
      row.errorRate === undefined ? dash : `${(row.errorRate * 100).toFixed(1)}%`,
      fixed(row.p99Ms, 1, 'ms'),
      row.waitingFor.map(describeWait).join('; '),
    ]),
  );
}

export function queueTable(queues: readonly QueueFigures[]): string {
  return formatTable(
    ['stream', 'group', 'length', 'pending', 'lag', 'consumers', 'dead letters'],
    queues.map((queue) => [
      queue.stream,
      queue.group,
      String(queue.length ?? dash),
      String(queue.pending ?? dash),
      String(queue.lag ?? dash),
      String(queue.consumers ?? dash),
      String(queue.deadLetters ?? dash),
    ]),
  );
}

async function readSnapshot(consoleUrl: string): Promise<Snapshot | undefined> {
  try {
    const response = await fetch(new URL('/api/snapshot', consoleUrl), {
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok ? ((await response.json()) as Snapshot) : undefined;
  } catch {
    return undefined;
  }
}

/** One screen: from the console when one answers, else from each service's /readyz. */
export async function statusScreen(
  definitions: readonly ServiceDefinition[],
  env: Env,
  consoleUrl: string,
): Promise<string> {
  const snapshot = await readSnapshot(consoleUrl);
  if (snapshot !== undefined) {
    const shown = new Set(definitions.map((definition) => definition.name));
    const rows = snapshot.processes.filter((row) => shown.has(row.service));
    const events = snapshot.timeline
      .slice(-5)
      .map((event) => `${event.at.slice(11, 19)} ${event.kind} ${event.subject}: ${event.message}`);
    return [
      `agora status --watch  ${snapshot.at.slice(11, 19)}  ${snapshot.mode}, from ${consoleUrl}`,
      '',
      processTable(rows),
      ...(snapshot.queues.length === 0 ? [] : ['', queueTable(snapshot.queues)]),
      ...(events.length === 0 ? [] : ['', 'last events:', ...events]),
    ].join('\n');
  }
  const statuses = await Promise.all(definitions.map((definition) => probe(definition, env)));
  return [
    `agora status --watch  ${new Date().toISOString().slice(11, 19)}  no console at ${consoleUrl}: readiness only`,
    '',
    formatTable(
      ['service', 'url', 'state', 'latency', 'detail'],
      statuses.map((status) => [
        status.service,
        status.url,
        status.state,
        status.latencyMs === undefined ? dash : `${status.latencyMs} ms`,
        status.detail,
      ]),
    ),
  ].join('\n');
}

/** Redraws until Ctrl-C (or `signal`); on a terminal in place, elsewhere one screen per tick. */
export async function watchStatus(
  definitions: readonly ServiceDefinition[],
  env: Env,
  options: { consoleUrl: string; intervalMs: number; signal: AbortSignal },
): Promise<void> {
  const tty = process.stdout.isTTY;
  while (!options.signal.aborted) {
    const screen = await statusScreen(definitions, env, options.consoleUrl);
    process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}\n` : `${screen}\n\n`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      options.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
