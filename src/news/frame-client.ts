/**
 * The client side of NDJSON over TCP (or TLS): connect, send one line, read one line back,
 * close. Every client, the agent's node pings and the tests use it.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

import { parseAddress } from './address.js';
import { NewsError, protocolVersion, type ResponseFrame } from './protocol.js';
import type { ClientTls } from './tls.js';

/**
 * The largest answer a client reads, newline included: a full page of news (500 items of 4,000
 * characters, each up to 4 bytes in UTF-8, with JSON escaping) fits; a server sending more is
 * cut off rather than filling the client's memory.
 */
export const maxAnswerBytes = 16 * 1024 * 1024;

/** The server could not be reached or did not answer: the client should try another node. */
export class UnreachableError extends NewsError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'UnreachableError';
  }
}

export interface CallOptions {
  /** Gives up (rejecting with NewsError 'unavailable') after this long. */
  timeoutMs?: number;
  /** Speak TLS, verifying the server's certificate (against `ca`, else the system's CAs). */
  tls?: ClientTls | undefined;
}

/** Sends one request to `address` ("host:port") and returns its result, or throws NewsError. */
export async function callNews<T>(
  address: string,
  request: { op: string; [field: string]: unknown },
  options: CallOptions = {},
): Promise<T> {
  const frame = { v: protocolVersion, id: nextId(), ...request };
  const response = await exchange(
    address,
    `${JSON.stringify(frame)}\n`,
    options.timeoutMs,
    options.tls,
  );
  if (!response.ok) throw new NewsError(response.error.code, response.error.message);
  return response.result as T;
}

let counter = 0;
function nextId(): number {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return counter;
}

/** Writes raw bytes and reads one response line; tests use it to send malformed frames. */
export function exchange(
  address: string,
  payload: string,
  timeoutMs = 5_000,
  tls?: ClientTls,
): Promise<ResponseFrame> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const socket: Socket =
      tls === undefined
        ? connect({ host, port })
        : connectTls({ host, port, ...(tls.ca === undefined ? {} : { ca: tls.ca }) });
    let received = '';
    let receivedBytes = 0;
    const fail = (message: string) => {
      socket.destroy();
      reject(new UnreachableError(`${address}: ${message}`));
    };
    socket.setTimeout(timeoutMs, () => {
      fail(`no answer within ${timeoutMs} ms`);
    });
    socket.setEncoding('utf8');
    socket.once('error', (error) => {
      fail(error.message);
    });
    socket.on('data', (chunk: string) => {
      // Only the new chunk is searched: a long answer costs its length once, not its square.
      const inChunk = chunk.indexOf('\n');
      const newline = inChunk === -1 ? -1 : received.length + inChunk;
      received += chunk;
      receivedBytes += Buffer.byteLength(chunk);
      if (newline === -1) {
        if (receivedBytes > maxAnswerBytes) fail(`answered more than ${maxAnswerBytes} bytes`);
        return;
      }
      socket.destroy();
      try {
        resolve(JSON.parse(received.slice(0, newline)) as ResponseFrame);
      } catch {
        reject(new UnreachableError(`${address}: answered something that is not JSON`));
      }
    });
    socket.once('end', () => {
      if (!received.includes('\n')) fail('closed the connection without an answer');
    });
    socket.write(payload);
  });
}
