/**
 * Reads one process's `/readyz` and `/metrics`. Each request opens its own connection, so the
 * scrapes of a cluster reach its workers in turn (node:cluster hands out connections, not
 * requests), and a hung process costs one timeout, not a stuck poll.
 */
import { request } from 'node:http';

import { parsePrometheusText, type Sample } from './prometheus-text.js';
import { reasonOf, type Wait } from './waits.js';

export interface Reply {
  status: number;
  body: string;
}

export function get(url: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

export interface ReadyAnswer {
  state: 'ready' | 'waiting' | 'down';
  waitingFor: Wait[];
}

export async function readReadiness(healthUrl: string, timeoutMs: number): Promise<ReadyAnswer> {
  try {
    const reply = await get(new URL('/readyz', healthUrl).toString(), timeoutMs);
    const body = JSON.parse(reply.body) as { checks?: Record<string, string> };
    const waitingFor = Object.entries(body.checks ?? {})
      .filter(([, outcome]) => outcome !== 'ok')
      .map(([check, outcome]) => ({ check, reason: reasonOf(outcome) }));
    return { state: reply.status === 200 ? 'ready' : 'waiting', waitingFor };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const text = code ?? (error instanceof Error ? error.message : String(error));
    return {
      state: 'down',
      waitingFor: [
        {
          check: 'process',
          reason: { code: 'unreachable', error: text.replace(/^no answer.*/, 'ETIMEDOUT') },
        },
      ],
    };
  }
}

export async function readMetrics(
  healthUrl: string,
  timeoutMs: number,
): Promise<Sample[] | undefined> {
  try {
    const reply = await get(new URL('/metrics', healthUrl).toString(), timeoutMs);
    return reply.status === 200 ? parsePrometheusText(reply.body) : undefined;
  } catch {
    return undefined; // readiness says why: the process is down or hung
  }
}
