/**
 * Connection draining at a stop, as a load balancer's backend does it. Closing a kept-alive
 * connection while it is idle races the client: a request it sent on that connection at the
 * same moment meets a reset (ECONNRESET), and in a rolling update that is a failed request for
 * every client whose pooled connection still reached the stopping replica. So before the server
 * closes, it goes on answering for a while: Fastify, once closing, sends `Connection: close` with
 * every answer, so each client learns to open a new connection (to another replica) at its next
 * request, while new connections, from clients whose DNS has not caught up yet, are answered
 * too. The drain ends once no request has begun for `quietMs`, or at once when no connection is
 * open, and never lasts more than the drain time (`AGORA_HTTP_DRAIN_MS`).
 */
import type { Server } from 'node:http';

/** No request for this long: every client still connected is idle, and closing can begin. */
export const drainQuietMs = 100;

export function drain(server: Server, openConnections: () => number, maxMs: number): Promise<void> {
  if (maxMs === 0 || openConnections() === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(quiet);
      clearTimeout(deadline);
      server.off('request', onRequest);
      resolve();
    };
    const quiet = setTimeout(finish, drainQuietMs);
    const deadline = setTimeout(finish, maxMs);
    const onRequest = () => {
      quiet.refresh();
    };
    server.on('request', onRequest);
  });
}
