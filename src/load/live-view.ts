/**
 * The live terminal view of a run, on stderr so stdout can carry the JSON report: a table
 * redrawn every second on a terminal, a plain line every few seconds otherwise (CI logs).
 */
import { formatTable } from '../platform/table.js';
import type { RouteSummary } from './histogram.js';
import type { LiveTick } from './runner.js';

export interface LiveViewOptions {
  /** Redraw in place (ANSI cursor movement) instead of appending plain lines. */
  tty: boolean;
  /** Without a terminal, print one line every this many seconds. */
  plainEverySeconds?: number;
}

export interface LiveView {
  update(tick: LiveTick): void;
  /** Leaves the last drawing on screen and prints nothing more. */
  close(): void;
}

export function createLiveView(
  stream: NodeJS.WritableStream,
  title: string,
  options: LiveViewOptions,
): LiveView {
  const plainEvery = options.plainEverySeconds ?? 5;
  let drawnLines = 0;
  let closed = false;
  return {
    update(tick) {
      if (closed) return;
      if (!options.tty) {
        if (tick.second.second % plainEvery === 0)
          stream.write(`${formatPlainTick(title, tick)}\n`);
        return;
      }
      const lines = formatLiveTable(title, tick);
      // Move up over the previous drawing and clear to the end of the screen.
      const erase = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : '';
      stream.write(`${erase}${lines.join('\n')}\n`);
      drawnLines = lines.length;
    },
    close() {
      closed = true;
    },
  };
}

/** The terminal drawing: a headline, then the last second per route. */
export function formatLiveTable(title: string, tick: LiveTick): string[] {
  const { total, routes } = tick.second;
  const rows = [...routes.filter((route) => route.requests > 0), total].map((route) => [
    route.route,
    String(route.requests),
    String(route.failed),
    ms(route, 'p50'),
    ms(route, 'p95'),
    ms(route, 'p99'),
  ]);
  return [
    `${title}  ${seconds(tick.elapsedMs)}  sent ${tick.issued}  acked ${tick.acked}  failed ${tick.failed}  in flight ${tick.inFlight}`,
    ...formatTable(['last second', 'req/s', 'failed', 'p50 ms', 'p95 ms', 'p99 ms'], rows).split(
      '\n',
    ),
  ];
}

/**
 * For logs: totals so far and the last second's rate and percentiles; then, when more than one
 * route was used in that second, one indented line per route with the same figures.
 */
export function formatPlainTick(title: string, tick: LiveTick): string {
  const { total } = tick.second;
  const headline =
    `${title} ${seconds(tick.elapsedMs)}: sent ${tick.issued}, acked ${tick.acked}, failed ${tick.failed}, ` +
    `in flight ${tick.inFlight}; last second ${secondFigures(total)}`;
  const used = tick.second.routes.filter((route) => route.requests > 0);
  if (used.length < 2) return headline;
  return [headline, ...used.map((route) => `  ${route.route}: ${secondFigures(route)}`)].join('\n');
}

/** The headline of a plain line as figures, for a program reading `agora load`'s stderr. */
export interface PlainTickFigures {
  elapsedSeconds: number;
  sent: number;
  acked: number;
  failed: number;
  inFlight: number;
  requestsPerSecond: number;
  p99Ms: number | undefined;
}

const plainHeadline =
  /^agora load \S+ (\d+)s: sent (\d+), acked (\d+), failed (\d+), in flight (\d+); last second (\d+) req\/s, \d+ failed, p50 \S+ ms, p95 \S+ ms, p99 (\S+) ms$/;

/** Reads back what `formatPlainTick` wrote as its first line; undefined for any other line. */
export function parsePlainTick(line: string): PlainTickFigures | undefined {
  const match = plainHeadline.exec(line);
  if (match === null) return undefined;
  const [, elapsed, sent, acked, failed, inFlight, rps, p99] = match.map(Number);
  return {
    elapsedSeconds: elapsed ?? 0,
    sent: sent ?? 0,
    acked: acked ?? 0,
    failed: failed ?? 0,
    inFlight: inFlight ?? 0,
    requestsPerSecond: rps ?? 0,
    p99Ms: p99 === undefined || Number.isNaN(p99) ? undefined : p99,
  };
}

function secondFigures(route: RouteSummary): string {
  return (
    `${route.requests} req/s, ${route.failed} failed, ` +
    `p50 ${ms(route, 'p50')} ms, p95 ${ms(route, 'p95')} ms, p99 ${ms(route, 'p99')} ms`
  );
}

function ms(route: RouteSummary, percentile: 'p50' | 'p95' | 'p99'): string {
  return route.requests === 0 ? '-' : route.latencyMs[percentile].toFixed(1);
}

function seconds(elapsedMs: number): string {
  return `${Math.round(elapsedMs / 1000)}s`;
}
