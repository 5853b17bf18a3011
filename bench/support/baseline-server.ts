/**
 * The baseline: a bare `node:http` server that answers a constant string, the ceiling any
 * Node service on this machine can reach. Run as `node baseline-server.js <port>`.
 */
import { createServer } from 'node:http';

// As long as the counter's answer, so both move the same bytes per request.
const body = 'Hello from Node! I have been seen 1000000 times.';

const port = Number(process.argv[2]);
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(request.url === '/readyz' ? 'ready' : body);
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
