/**
 * A cap on a listener's open connections, overall and per remote address. The HTTP servers and
 * the news TCP ports ask it about each connection as it is accepted, before any TLS handshake
 * or parsing, so a refused connection costs almost nothing.
 */
import type { Socket } from 'node:net';

export interface ConnectionCap {
  /** Most connections open at once. */
  max: number;
  /** Most from one remote address; 0 means no per-address cap. */
  perAddress: number;
}

export type CapRefusal = 'too_many_connections' | 'too_many_from_address';

export interface ConnectionCounter {
  /** Counts the socket until it closes, or says why it is refused (and counts nothing). */
  admit(socket: Socket): CapRefusal | undefined;
  open(): number;
}

export function connectionCounter(cap: ConnectionCap): ConnectionCounter {
  let open = 0;
  const byAddress = new Map<string, number>();
  return {
    admit(socket) {
      const address = socket.remoteAddress ?? 'unknown';
      const fromAddress = byAddress.get(address) ?? 0;
      if (open >= cap.max) return 'too_many_connections';
      if (cap.perAddress > 0 && fromAddress >= cap.perAddress) return 'too_many_from_address';
      open += 1;
      byAddress.set(address, fromAddress + 1);
      socket.once('close', () => {
        open -= 1;
        const left = (byAddress.get(address) ?? 1) - 1;
        if (left === 0) byAddress.delete(address);
        else byAddress.set(address, left);
      });
      return undefined;
    },
    open: () => open,
  };
}
