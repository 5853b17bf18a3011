/**
 * An attacker's raw connections for the abuse tests: open a socket, write what the attack
 * writes, and watch whether the server has closed it (and what it said first).
 */
import { connect, type Socket } from 'node:net';

export interface Attacker {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** The server closed the connection (or it failed). */
  closed(): boolean;
  /** The connection was established before anything happened to it. */
  connected(): boolean;
}

export function openRaw(
  port: number,
  options: { localAddress?: string; host?: string } = {},
): Attacker {
  const socket = connect({
    host: options.host ?? '127.0.0.1',
    port,
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  });
  let received = '';
  let closed = false;
  let connected = false;
  socket.setEncoding('utf8');
  socket.on('connect', () => {
    connected = true;
  });
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  return {
    socket,
    received: () => received,
    closed: () => closed,
    connected: () => connected,
  };
}

/** Writes one byte at each tick until the socket closes: a slow body, a trickled frame. */
export function trickle(attacker: Attacker, everyMs: number, byte = 'a'): () => void {
  const timer = setInterval(() => {
    if (attacker.closed()) clearInterval(timer);
    else attacker.socket.write(byte);
  }, everyMs);
  return () => {
    clearInterval(timer);
  };
}

/** Sends one line from `localAddress` and resolves with the first line answered. */
export function exchangeFrom(port: number, line: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const attacker = openRaw(port, { localAddress });
    attacker.socket.on('data', () => {
      const text = attacker.received();
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      attacker.socket.destroy();
      resolve(text.slice(0, newline));
    });
    attacker.socket.on('close', () => {
      reject(new Error(`closed without an answer: ${attacker.received()}`));
    });
    attacker.socket.write(line);
  });
}
