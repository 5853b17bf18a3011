/**
 * The baseline: bench/baseline-server.ts in a child process of its own, and a benchmark that
 * measures it alone (what this machine and wrk can reach at all).
 */
import { fileURLToPath } from 'node:url';

import { type Benchmark, compare, type Contender } from './benchmark.js';
import { printReport } from './report.js';
import { freePort, type ServerProcess, startServer } from './server-process.js';
import { assertWrkInstalled } from './wrk.js';

const serverScript = fileURLToPath(new URL('./baseline-server.js', import.meta.url));

export const baselineBenchmark: Benchmark = {
  name: 'baseline',
  description: 'the bare node:http server alone: what this machine and wrk can reach',
  run: async (load) => {
    await assertWrkInstalled();
    printReport(await compare([baseline], load), load);
  },
};

export async function startBaseline(): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startServer('the baseline server', {
    args: [serverScript, String(port)],
    url: `${url}/`,
    readyUrl: `${url}/readyz`,
  });
}

/** The contender every comparison measures first, so ratios are to it. */
export const baseline: Contender = { name: 'baseline', start: startBaseline };
