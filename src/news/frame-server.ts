/**
 * The server side of NDJSON over TCP (or TLS), one frame each way per connection: it reads one
 * line (bounded by the frame limit and a deadline from accept), answers it within the handler
 * deadline and closes. Connections are capped overall and per address, and none lives past an
 * absolute deadline. The agent and the nodes serve with it; frame-client.ts is the other side.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import { type ConnectionCap, connectionCounter } from '../platform/connection-cap.js';
import { withinDeadline } from '../platform/deadline.js';
import { UnavailableError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import {
  errorFrame,
  type FrameId,
  idOf,
  maxFrameBytes,
  NewsError,
  parseRequest,
  protocolVersion,
  type RequestFrame,
  type ResponseFrame,
} from './protocol.js';

/** Who sent a frame: the remote address, for rate limits. */
export interface Peer {
  address: string;
}

export type FrameHandler = (request: RequestFrame, peer: Peer) => Promise<unknown>;

export interface FrameServerOptions {
  handle: FrameHandler;
  logger: Logger;
  /** How long a connection may take to send its line before it is answered and closed. */
  idleTimeoutMs: number;
  /** How long a handler may take before the client is answered `timeout`. */
  handlerTimeoutMs: number;
  connections: ConnectionCap;
  /** PEM certificate chain and key: the port speaks TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /** Told each answered request, for metrics. */
  observe?: (op: string, outcome: string, seconds: number) => void;
}

export interface FrameServer {
  server: Server;
  /** The port actually bound (useful when 0 was asked). */
  port: number;
  close(): Promise<void>;
}

export async function listenFrames(
  options: FrameServerOptions,
  host: string,
  port: number,
): Promise<FrameServer> {
  const sockets = new Set<Socket>();
  const counter = connectionCounter(options.connections);
  // Whatever a connection does, it is gone by then: its line, its answer, the close grace.
  const lifetimeMs = options.idleTimeoutMs + options.handlerTimeoutMs + closeGraceMs;
  const admit = (socket: Socket) => {
    const refused = counter.admit(socket);
    if (refused !== undefined) {
      options.logger.debug({ address: socket.remoteAddress, refused }, 'news connection refused');
      // A plain client is told why; a TLS one would only see bytes before its handshake.
      if (options.tls === undefined) {
        socket.end(`${JSON.stringify(busyFrame(refused))}\n`);
        setTimeout(() => socket.destroy(), closeGraceMs).unref();
      } else {
        socket.destroy();
      }
      return;
    }
    sockets.add(socket);
    const end = setTimeout(() => socket.destroy(), lifetimeMs);
    socket.once('close', () => {
      clearTimeout(end);
      sockets.delete(socket);
    });
    if (options.tls === undefined) serveConnection(socket, options);
  };
  let server: Server;
  if (options.tls === undefined) {
    server = createServer(admit);
  } else {
    server = createTlsServer(
      { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: options.idleTimeoutMs },
      (socket) => {
        serveConnection(socket, options);
      },
    );
    server.on('connection', admit);
    server.on('tlsClientError', (error) => {
      options.logger.debug({ err: error }, 'news TLS handshake failed');
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        // Connections are short; any still open are mid-request and lose nothing acknowledged.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** How long a client has to read its answer before the server closes the connection. */
const closeGraceMs = 1_000;

function serveConnection(socket: Socket, options: FrameServerOptions): void {
  const { logger } = options;
  let buffered = Buffer.alloc(0);
  let answered = false;
  socket.on('error', (error) => {
    logger.debug({ err: error }, 'news connection error');
  });
  // One deadline from accept, not an inactivity timer: a client trickling a byte at a time
  // must not hold a connection for a frame's worth of timeouts.
  const deadline = setTimeout(() => {
    reply(errorFrame(null, 'idle_timeout', `no complete frame within ${options.idleTimeoutMs} ms`));
  }, options.idleTimeoutMs);
  socket.once('close', () => {
    clearTimeout(deadline);
  });

  const reply = (frame: ResponseFrame) => {
    if (answered) return;
    answered = true;
    socket.removeAllListeners('data');
    clearTimeout(deadline);
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // end() only half-closes: a client that never closes its side would keep the socket
    // forever. Once the answer is flushed, give the client a moment to read it, then close.
    socket.end(`${JSON.stringify(frame)}\n`);
    const closing = setTimeout(() => socket.destroy(), closeGraceMs);
    socket.once('close', () => {
      clearTimeout(closing);
    });
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const newline = buffered.indexOf(0x0a);
    if (newline === -1 ? buffered.length >= maxFrameBytes : newline + 1 > maxFrameBytes) {
      reply(errorFrame(null, 'frame_too_large', `a frame may have at most ${maxFrameBytes} bytes`));
      return;
    }
    if (newline === -1) return;
    // One request per connection: the rest of the stream is ignored.
    socket.removeAllListeners('data');
    clearTimeout(deadline);
    const line = buffered.subarray(0, newline).toString('utf8');
    void answer(line, { address: socket.remoteAddress ?? 'unknown' }, options).then(reply);
  });
}

function busyFrame(refused: string): ResponseFrame {
  return errorFrame(
    null,
    'busy',
    refused === 'too_many_from_address'
      ? 'too many connections from your address; try again shortly'
      : 'the server has too many connections; try again shortly',
  );
}

async function answer(
  line: string,
  peer: Peer,
  options: FrameServerOptions,
): Promise<ResponseFrame> {
  const started = performance.now();
  let request: RequestFrame;
  try {
    request = parseRequest(line);
  } catch (error) {
    const refused = toErrorFrame(idOf(line), error, options.logger);
    options.observe?.('invalid', refused.ok ? 'ok' : refused.error.code, 0);
    return refused;
  }
  let response: ResponseFrame;
  try {
    const result = await withinDeadline(
      options.handle(request, peer),
      options.handlerTimeoutMs,
      () =>
        new NewsError('timeout', `the server did not finish within ${options.handlerTimeoutMs} ms`),
    );
    response = { v: protocolVersion, id: request.id, ok: true, result };
  } catch (error) {
    response = toErrorFrame(request.id, error, options.logger);
  }
  options.logger.debug({ op: request.op, ok: response.ok }, 'news request');
  options.observe?.(
    request.op,
    response.ok ? 'ok' : response.error.code,
    (performance.now() - started) / 1000,
  );
  return response;
}

function toErrorFrame(id: FrameId | null, error: unknown, logger: Logger): ResponseFrame {
  if (error instanceof NewsError) return errorFrame(id, error.code, error.message);
  if (error instanceof UnavailableError) {
    return errorFrame(id, 'unavailable', 'the database is not answering; try again shortly');
  }
  logger.error({ err: error }, 'news request failed');
  return errorFrame(id, 'internal', 'the server failed to handle the request');
}
