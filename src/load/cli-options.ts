/**
 * The options every `agora load <system>` command shares, checked and parsed into a typed
 * RunOptions with one-line errors.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';

import { UsageError } from '../platform/errors.js';
import type { LoadModel } from './runner.js';
import { type FailureLimit, parseFailureLimit, type Thresholds } from './thresholds.js';

export interface RunOptions {
  url: URL;
  model: LoadModel;
  durationMs?: number;
  total?: number;
  /** Per request (undici's header and body timeouts), and the grace for requests at the stop. */
  timeoutMs: number;
  /** Whether the run ends with the profile's verification (`--no-verify` skips it). */
  verify: boolean;
  /** Bound on the verification step. */
  verifyTimeoutMs: number;
  reportPath?: string;
  /** Print the JSON report on stdout (the text report then goes to stderr). */
  json: boolean;
  live: boolean;
  thresholds: Thresholds;
}

/** What commander hands back for the options added by `addLoadOptions`. */
export interface RawLoadOptions {
  /** A string only when it is the default, which commander does not parse. */
  url: URL | string;
  users?: number;
  spawnRate?: number;
  rate?: number;
  ramp?: number;
  duration?: number;
  total?: number;
  maxInFlight?: number;
  thinkTime?: { min: number; max: number };
  timeout: number;
  verify: boolean;
  verifyTimeout: number;
  report?: string;
  json?: boolean;
  live: boolean;
  maxP99?: number;
  maxFailures?: FailureLimit;
}

const defaults = { closedUsers: 10, maxInFlight: 1_000, durationMs: 60_000, timeoutMs: 10_000 };

/**
 * What one generator process can honestly drive, and the longest wait a Node timer can keep
 * (setTimeout takes a longer one as 1 ms): past these a value is refused, not misread.
 */
const limits = { users: 100_000, maxInFlight: 100_000, ratePerSecond: 1_000_000 };
export const maxTimerMs = 2 ** 31 - 1;

export function addLoadOptions(command: Command, defaultUrl: string): Command {
  const option = (flags: string, description: string, parse?: (raw: string) => unknown) =>
    parse === undefined
      ? new Option(flags, description)
      : new Option(flags, description).argParser(parse);
  return command
    .addOption(
      option('--url <url>', 'where the system answers').default(defaultUrl).argParser(parseUrl),
    )
    .addOption(
      option(
        '-r, --rate <per-second>',
        'open model: target arrivals per second, kept even when the server slows',
        positiveNumber,
      ),
    )
    .addOption(
      option(
        '--ramp <seconds>',
        'open model: climb linearly from 0 to --rate over this time',
        nonNegativeNumber,
      ),
    )
    .addOption(
      option(
        '--max-in-flight <count>',
        `open model: more unanswered requests than this fail as dropped (default ${defaults.maxInFlight}, at most ${limits.maxInFlight})`,
        boundedInteger(limits.maxInFlight, 'requests in flight'),
      ),
    )
    .addOption(
      option(
        '-u, --users <count>',
        `closed model: simulated users (default ${defaults.closedUsers}, at most ${limits.users}); open model: distinct users the arrivals are spread over`,
        boundedInteger(limits.users, 'users'),
      ),
    )
    .addOption(
      option(
        '--spawn-rate <per-second>',
        'closed model: users started per second (default: all at once)',
        positiveNumber,
      ),
    )
    .addOption(
      option(
        '--think-time <ms|min-max>',
        'closed model: pause after each answer, fixed or uniform in a range',
        parseThinkTime,
      ),
    )
    .addOption(
      option(
        '-d, --duration <time>',
        'stop after this long: 30s, 5m, 1h, 500ms (default 60s unless --total)',
        parseDuration,
      ),
    )
    .addOption(option('-n, --total <count>', 'stop after this many requests', positiveInteger))
    .addOption(
      option(
        '--timeout <time>',
        'per request, and how long requests in flight may finish at the stop',
        parseDuration,
      ).default(defaults.timeoutMs, '10s'),
    )
    .addOption(option('--no-verify', 'skip the check of what was acknowledged against the store'))
    .addOption(
      option(
        '--verify-timeout <time>',
        'bound on the verification after the run',
        parseDuration,
      ).default(120_000, '2m'),
    )
    .addOption(
      option('--report <path>', 'write the JSON report to this file (also when interrupted)'),
    )
    .addOption(option('--json', 'print the JSON report on stdout; the text report goes to stderr'))
    .addOption(option('--no-live', 'no live view while running'))
    .addOption(
      option('--max-p99 <ms>', "fail (exit 1) when any route's p99 exceeds this", positiveNumber),
    )
    .addOption(
      option(
        '--max-failures <count|percent>',
        'fail (exit 1) on more failures than this: 10 or 0.5%',
        parseFailures,
      ),
    );
}

/** Checks the options against each other and picks the model; errors are one line. */
export function parseRunOptions(raw: RawLoadOptions): RunOptions {
  const model = raw.rate === undefined ? closedModel(raw) : openModel(raw, raw.rate);
  return {
    url: typeof raw.url === 'string' ? defaultUrl(raw.url) : raw.url,
    model,
    durationMs: raw.duration ?? (raw.total === undefined ? defaults.durationMs : undefined),
    total: raw.total,
    timeoutMs: raw.timeout,
    verify: raw.verify,
    verifyTimeoutMs: raw.verifyTimeout,
    reportPath: raw.report,
    json: raw.json === true,
    live: raw.live,
    thresholds: { maxP99Ms: raw.maxP99, maxFailures: raw.maxFailures },
  };
}

function openModel(raw: RawLoadOptions, perSecond: number): LoadModel {
  if (raw.spawnRate !== undefined) throw closedOnly('--spawn-rate');
  if (raw.thinkTime !== undefined) throw closedOnly('--think-time');
  const maxInFlight = raw.maxInFlight ?? defaults.maxInFlight;
  return {
    kind: 'open',
    rate: { perSecond, rampSeconds: raw.ramp ?? 0 },
    maxInFlight,
    users: raw.users ?? maxInFlight,
  };
}

function closedModel(raw: RawLoadOptions): LoadModel {
  if (raw.ramp !== undefined) throw openOnly('--ramp');
  if (raw.maxInFlight !== undefined) throw openOnly('--max-in-flight');
  return {
    kind: 'closed',
    users: raw.users ?? defaults.closedUsers,
    spawnRate: raw.spawnRate,
    thinkTimeMs: raw.thinkTime ?? { min: 0, max: 0 },
  };
}

const closedOnly = (flag: string) =>
  new UsageError(`${flag} belongs to the closed model; drop it or drop --rate`);
const openOnly = (flag: string) =>
  new UsageError(`${flag} belongs to the open model; it needs --rate`);

/** An AbortSignal for Ctrl-C and SIGTERM: the first one stops the run, the report follows. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}

function defaultUrl(raw: string): URL {
  try {
    return parseUrl(raw);
  } catch {
    throw new UsageError(`the default --url "${raw}" is not a URL; check the AGORA_*_URL variable`);
  }
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new InvalidArgumentError('expected an absolute URL such as http://127.0.0.1:8080/.');
  }
}

function positiveNumber(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError('expected a number above 0.');
  if (value > limits.ratePerSecond) {
    throw new InvalidArgumentError(`expected at most ${limits.ratePerSecond}.`);
  }
  return value;
}

function nonNegativeNumber(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new InvalidArgumentError('expected a number, 0 or more.');
  return value;
}

function positiveInteger(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw)))
    throw new InvalidArgumentError('expected a whole number above 0.');
  return Number(raw);
}

function boundedInteger(max: number, what: string): (raw: string) => number {
  return (raw) => {
    const value = positiveInteger(raw);
    if (value > max) throw new InvalidArgumentError(`expected at most ${max} ${what}.`);
    return value;
  };
}

const timeUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A time span in milliseconds; a bare number is seconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  const ms = Number(match?.[1]) * (timeUnits[match?.[2] ?? 's'] ?? Number.NaN);
  if (match === null || !Number.isFinite(ms) || ms <= 0)
    throw new InvalidArgumentError('expected a time such as 30s, 5m, 1h or 500ms.');
  if (ms > maxTimerMs) {
    throw new InvalidArgumentError(
      `expected at most ${maxTimerMs} ms (about 24 days), the longest a timer can wait.`,
    );
  }
  return ms;
}

function parseThinkTime(raw: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(raw.trim());
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || max < min)
    throw new InvalidArgumentError('expected milliseconds (500) or a range (200-800).');
  if (max > maxTimerMs) throw new InvalidArgumentError(`expected at most ${maxTimerMs} ms.`);
  return { min, max };
}

function parseFailures(raw: string): FailureLimit {
  try {
    return parseFailureLimit(raw);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
