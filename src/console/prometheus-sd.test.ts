import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { ProcessInfo } from './processes.js';
import { registerQueueMetrics, targetGroupsOf } from './prometheus-sd.js';
import type { QueueFigures } from './snapshot.js';

const process = (label: string, service: string, healthUrl: string): ProcessInfo => ({
  label,
  service,
  system: 'voting',
  url: 'http://127.0.0.1:1',
  healthUrl,
  pid: 1,
  state: 'exited',
  startedAtMs: 0,
  restarts: 0,
  workers: 1,
});

describe('targetGroupsOf', () => {
  it('gives each process its metrics address and labels, exited ones too, then the console', () => {
    const groups = targetGroupsOf(
      [
        process('worker#1', 'worker', 'http://127.0.0.1:8090'),
        process('worker#2', 'worker', 'http://127.0.0.1:8091/'),
      ],
      '127.0.0.1:7070',
    );
    expect(groups).toEqual([
      {
        targets: ['127.0.0.1:8090'],
        labels: {
          __metrics_path__: '/metrics',
          service: 'worker',
          system: 'voting',
          process: 'worker#1',
        },
      },
      {
        targets: ['127.0.0.1:8091'],
        labels: {
          __metrics_path__: '/metrics',
          service: 'worker',
          system: 'voting',
          process: 'worker#2',
        },
      },
      {
        targets: ['127.0.0.1:7070'],
        labels: {
          __metrics_path__: '/metrics',
          service: 'console',
          system: 'console',
          process: 'console',
        },
      },
    ]);
  });

  it('leaves the console out when its address is unknown', () => {
    expect(targetGroupsOf([], undefined)).toEqual([]);
  });
});

describe('registerQueueMetrics', () => {
  it('exports the figures of the last look, leaving out the unknown ones', async () => {
    const registry = new Registry();
    const queue: QueueFigures = {
      system: 'voting',
      stream: 'votes',
      group: 'workers',
      length: 12,
      pending: 3,
      lag: 9,
      consumers: 2,
      deadLetters: undefined,
      history: { length: [], pending: [], lag: [] },
    };
    let queues: QueueFigures[] = [queue];
    registerQueueMetrics(registry, () => queues);
    const text = await registry.metrics();
    expect(text).toContain('agora_queue_length{system="voting",stream="votes",group="workers"} 12');
    expect(text).toContain('agora_queue_pending{system="voting",stream="votes",group="workers"} 3');
    expect(text).toContain('agora_queue_lag{system="voting",stream="votes",group="workers"} 9');
    expect(text).toContain(
      'agora_queue_consumers{system="voting",stream="votes",group="workers"} 2',
    );
    expect(text).not.toMatch(/agora_queue_dead_letters\{/);

    queues = [{ ...queue, pending: 0 }];
    expect(await registry.metrics()).toContain(
      'agora_queue_pending{system="voting",stream="votes",group="workers"} 0',
    );
  });
});
