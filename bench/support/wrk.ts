/**
 * Runs Debian's `wrk` against one URL and reads its figures: requests per second, latency
 * percentiles and errors. POST bodies go through a generated Lua script.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkRequest {
  method: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSeconds: number;
  /** A fixed request other than GET (a vote POST, for example). */
  request?: WrkRequest;
  /** Lua source for wrk's `-s`, for requests that change per call; wins over `request`. */
  script?: string;
}

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  /** wrk prints the 50th, 75th, 90th and 99th percentiles, in milliseconds here. */
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
  /** Connect, read, write and timeout errors together. */
  socketErrors: number;
  /** Responses with a status of 400 or more (wrk calls them "Non-2xx or 3xx"). */
  errorResponses: number;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const script = options.script ?? (options.request && requestScript(options.request));
  const dir = script === undefined ? undefined : await mkdtemp(join(tmpdir(), 'agora-wrk-'));
  const args = [
    '--latency',
    `--threads=${options.threads}`,
    `--connections=${options.connections}`,
    `--duration=${options.durationSeconds}s`,
  ];
  try {
    if (dir !== undefined && script !== undefined) {
      const file = join(dir, 'request.lua');
      await writeFile(file, script);
      args.push(`--script=${file}`);
    }
    args.push(options.url);
    const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 }).catch((error: unknown) => {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        throw new Error('wrk is not installed: apt-get install wrk');
      }
      throw error;
    });
    return parseWrkOutput(stdout);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** Fails with the install line when wrk is missing, before any server is started. */
export async function assertWrkInstalled(): Promise<void> {
  try {
    // `wrk --version` prints its banner and exits 1; only a missing binary matters here.
    await run('wrk', ['--version']);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      throw new Error('wrk is not installed: apt-get install wrk');
    }
  }
}

/** Reads wrk's `--latency` report. */
export function parseWrkOutput(text: string): WrkResult {
  const required = (pattern: RegExp, what: string): number => {
    const match = pattern.exec(text);
    if (match?.[1] === undefined) throw new Error(`wrk printed no ${what}:\n${text}`);
    return Number(match[1]);
  };
  const optional = (pattern: RegExp): number[] => pattern.exec(text)?.slice(1).map(Number) ?? [0];
  const percentile = (p: number): number => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text);
    const unit = millisecondsPer[match?.[2] ?? ''];
    if (match?.[1] === undefined || unit === undefined) {
      throw new Error(`wrk printed no ${p}th percentile (was --latency given?):\n${text}`);
    }
    return Number(match[1]) * unit;
  };
  return {
    requests: required(/(\d+) requests in /, 'request count'),
    requestsPerSecond: required(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec'),
    latencyMs: {
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    socketErrors: sum(
      optional(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/),
    ),
    errorResponses: sum(optional(/Non-2xx or 3xx responses: (\d+)/)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

const millisecondsPer: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** A wrk script that sends the same request every time. */
export function requestScript(request: WrkRequest): string {
  const lines = [`wrk.method = ${luaString(request.method)}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${luaString(request.body)}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A Lua string literal holding `text` byte for byte. wrk embeds LuaJIT (Lua 5.1), which knows
 * `\ddd` decimal escapes but not `\u{...}`, so every byte outside printable ASCII is escaped.
 */
export function luaString(text: string): string {
  let literal = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    literal += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${literal}"`;
}
