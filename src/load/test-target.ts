/**
 * For the load generator's tests: a real node:http server on a free loopback port that
 * counts what it receives, answers as told, and can hold every answer until released.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestTarget {
  readonly url: URL;
  readonly received: ReceivedRequest[];
  /** From now on, answers wait until `release()`. */
  hold(): void;
  /** Sends every held answer and stops holding. */
  release(): void;
  /** Resolves once `count` requests have arrived (held or not). */
  whenReceived(count: number): Promise<void>;
  close(): Promise<void>;
}

export type Responder = (request: ReceivedRequest) => { status: number; body?: string };

export async function startTestTarget(
  respond: Responder = () => ({ status: 200 }),
): Promise<TestTarget> {
  const received: ReceivedRequest[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  let held: (() => void)[] | undefined;

  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      for (const waiter of waiting.filter((one) => received.length >= one.count)) waiter.resolve();
      const answer = () => {
        const { status, body } = respond(request);
        outgoing.writeHead(status, { 'content-type': 'text/plain' }).end(body ?? '');
      };
      if (held === undefined) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const target: TestTarget = {
    url: new URL(`http://127.0.0.1:${port}/`),
    received,
    hold() {
      held ??= [];
    },
    release() {
      const answers = held ?? [];
      held = undefined;
      for (const answer of answers) answer();
    },
    whenReceived(count) {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiting.push({ count, resolve }));
    },
    async close() {
      target.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
  return target;
}
