/**
 * Runs Debian's `h2load` (package nghttp2-client) against one HTTP/2 URL with one fixed request
 * body: the native load generator for gRPC unary calls, as `wrk` is for HTTP/1.1, so the
 * client's own cost does not cap the server's figure. It reads HTTP statuses only, not gRPC
 * ones: a caller checks what the calls stored.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface H2loadOptions {
  url: string;
  durationSeconds: number;
  /** Connections. */
  clients: number;
  /** Concurrent streams per connection. */
  streams: number;
  /** Sent as the body of every POST. */
  body: Buffer;
  headers: Record<string, string>;
}

export interface H2loadResult {
  /** Requests answered with a 2xx status. */
  succeeded: number;
  meanLatencyMs: number;
}

/** False when h2load is not installed (`apt-get install nghttp2-client`). */
export async function h2loadInstalled(): Promise<boolean> {
  try {
    await run('h2load', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'agora-h2load-'));
  try {
    const file = join(dir, 'body.bin');
    await writeFile(file, options.body);
    const args = [
      `--duration=${options.durationSeconds}`,
      `--clients=${options.clients}`,
      `--max-concurrent-streams=${options.streams}`,
      '--threads=1',
      `--data=${file}`,
      ...Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      options.url,
    ];
    const { stdout } = await run('h2load', args, { maxBuffer: 1 << 20 });
    return parseH2loadOutput(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `status codes: N 2xx` and the mean of `time for request:` (in us, ms or s). */
export function parseH2loadOutput(text: string): H2loadResult {
  const succeeded = /status codes: (\d+) 2xx/.exec(text)?.[1];
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\b/.exec(text);
  if (succeeded === undefined || mean === null) {
    throw new Error(`h2load printed no figures:\n${text.slice(-2_000)}`);
  }
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1_000 };
  return {
    succeeded: Number(succeeded),
    meanLatencyMs: Number(mean[1]) * (scale[mean[2] ?? 'ms'] ?? 1),
  };
}
