/**
 * freePort, which every test that starts a service relies on: no port it hands out, nor the
 * admin port (+ 100) a service on it would take, is handed out again, even to concurrent calls.
 */
import { expect, it } from 'vitest';

import { freePort } from './processes.js';

it('never hands out a port, or its admin port, twice, even to concurrent calls', async () => {
  const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
  const ported = await freePort([1, 2]);
  const taken = [...ports, ported].flatMap((port) => [port, port + 100]);
  taken.push(ported + 1, ported + 2);
  expect(new Set(taken).size).toBe(taken.length);
});
