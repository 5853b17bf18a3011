/**
 * `agora chaos` against a running `agora up --distributed --faults`: a service cut off from
 * Redis through its fault proxy goes not-ready and comes back when the fault is lifted; a
 * killed process shows down; every step is on the console's timeline.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, expect, it } from 'vitest';

import type { Snapshot } from '../../src/console/snapshot.js';
import { startConsoleStack } from '../support/console-stack.js';
import { agoraCli, killAll, waitFor } from '../support/processes.js';

const run = promisify(execFile);

afterAll(async () => {
  await killAll();
});

it('cuts counter off from Redis for a while, then kills it, from agora chaos', async () => {
  const stack = await startConsoleStack(['counter', '--faults']);
  const snapshot = async () =>
    (await (await fetch(`${stack.consoleUrl}/api/snapshot`)).json()) as Snapshot;
  const readiness = async () => (await snapshot()).processes[0]?.readiness;
  await waitFor(async () => (await readiness()) === 'ready', { timeoutMs: 20_000 });
  const chaos = (...args: string[]) =>
    run(process.execPath, [agoraCli, 'chaos', ...args, '--console', stack.consoleUrl], {
      env: { ...stack.env, AGORA_CONSOLE_TOKEN: stack.token },
    });

  const cut = await chaos('fault', 'counter', 'broker', '--kind', 'partition', '--seconds', '3');
  expect(JSON.parse(cut.stdout)).toMatchObject({ service: 'counter', kind: 'partition' });
  await waitFor(async () => (await readiness()) === 'waiting', {
    timeoutMs: 10_000,
    message: 'counter not ready while partitioned from Redis',
  });
  await waitFor(async () => (await readiness()) === 'ready', {
    timeoutMs: 20_000,
    message: 'counter ready again once the partition is lifted',
  });

  await chaos('kill', 'counter');
  await waitFor(async () => (await readiness()) === 'down', { message: 'counter down' });
  const events = (await snapshot()).timeline.map((event) => `${event.kind}: ${event.message}`);
  expect(events).toEqual(
    expect.arrayContaining([
      'fault: broker partition for 3s',
      'fault: broker partition lifted',
      expect.stringMatching(/^not-ready: waiting for broker/),
      expect.stringMatching(/^killed: SIGKILL to pid \d+/),
    ]),
  );

  await expect(chaos('fault', 'counter', 'nothing')).rejects.toMatchObject({
    stderr: 'agora: backend must be broker or sql, got "nothing"\n',
  });
}, 90_000);
