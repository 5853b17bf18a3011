/**
 * The client side of NDJSON over TCP: connect, send one line, read one line back, close. Every
 * client, the agent's node pings and the tests use it.
 */
import { connect } from 'node:net';

import { parseAddress } from './address.js';
import { NewsError, protocolVersion, type ResponseFrame } from './protocol.js';

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
}

/** Sends one request to `address` ("host:port") and returns its result, or throws NewsError. */
export async function callNews<T>(
  address: string,
  request: { op: string; [field: string]: unknown },
  options: CallOptions = {},
): Promise<T> {
  const frame = { v: protocolVersion, id: nextId(), ...request };
  const response = await exchange(address, `${JSON.stringify(frame)}\n`, options.timeoutMs);
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
): Promise<ResponseFrame> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
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
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline === -1) return;
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
