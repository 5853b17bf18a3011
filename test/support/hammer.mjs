// Sends N concurrent GET requests over K keep-alive connections and prints one JSON line:
// { statuses: {code: count}, hits: [numbers from JSON answers] }. Run as its own process so the
// load comes from outside the service: node hammer.mjs <url> <requests> <connections>
import http from 'node:http';

const [url, requestsArg, connectionsArg] = process.argv.slice(2);
const requests = Number(requestsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connectionsArg) });

function hit() {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      { agent, headers: { accept: 'application/json' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body }));
      },
    );
    request.on('error', reject);
  });
}

const answers = await Promise.all(Array.from({ length: requests }, hit));
const statuses = {};
const hits = [];
for (const { status, body } of answers) {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status === 200) hits.push(JSON.parse(body).hits);
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ statuses, hits })}\n`);
