/**
 * The news baseline: a bare `node:net` server speaking the news protocol's framing (one JSON
 * line in, one JSON line out, then the client closes), with no database and no checks. It
 * answers `route` with the node address it was given and any other op with an empty list.
 * Run as `node ndjson-baseline-server.js <port> <node address>`.
 */
import { createServer } from 'node:net';

const port = Number(process.argv[2]);
const node = process.argv[3] ?? `127.0.0.1:${port}`;

const server = createServer((socket) => {
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
    const newline = received.indexOf('\n');
    if (newline === -1) return;
    const frame = JSON.parse(received.slice(0, newline)) as { id?: unknown; op?: unknown };
    const result = frame.op === 'route' ? { area: 'area', node } : [];
    socket.end(`${JSON.stringify({ v: 1, id: frame.id ?? null, ok: true, result })}\n`);
  });
  socket.on('error', () => undefined);
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
});
