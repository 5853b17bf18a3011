/**
 * Prometheus HTTP service discovery for the processes the console shows (`http_sd_configs`,
 * https://prometheus.io/docs/prometheus/latest/http_sd/): one target group per process, at the
 * address its `/metrics` answers, labelled with its service, system and process label, and one
 * for the console itself, whose `/metrics` carries the queue figures it reads from the broker.
 */
import { Gauge, type Registry } from 'prom-client';

import type { HttpServer } from '../platform/http/server.js';
import type { ProcessInfo, ProcessSource } from './processes.js';
import type { QueueFigures } from './snapshot.js';

/** One entry of the HTTP SD document: targets (`host:port`) sharing one set of labels. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The route Prometheus polls; `deploy/monitoring/prometheus-local.yml` names it. */
export const prometheusSdPath = '/api/prometheus/targets';

/**
 * Every process, stopped and exited ones too: a killed replica stays a target whose `up` is 0
 * until it is restarted or scaled away, as a dead container does under Compose.
 */
export function targetGroupsOf(
  processes: readonly ProcessInfo[],
  consoleAddress: string | undefined,
): TargetGroup[] {
  const groups = processes.map((info): TargetGroup => {
    const metrics = new URL('/metrics', info.healthUrl);
    return {
      targets: [metrics.host],
      labels: {
        __metrics_path__: metrics.pathname,
        service: info.service,
        system: info.system,
        process: info.label,
      },
    };
  });
  if (consoleAddress !== undefined) {
    groups.push({
      targets: [consoleAddress],
      labels: {
        __metrics_path__: '/metrics',
        service: 'console',
        system: 'console',
        process: 'console',
      },
    });
  }
  return groups;
}

/** `host:port` of the socket a request came in on: where the console answered Prometheus. */
function localAddressOf(socket: { localAddress?: string; localPort?: number }): string | undefined {
  const { localAddress, localPort } = socket;
  if (localAddress === undefined || localPort === undefined) return undefined;
  const host = localAddress.startsWith('::ffff:')
    ? localAddress.slice('::ffff:'.length)
    : localAddress;
  return host.includes(':') ? `[${host}]:${localPort}` : `${host}:${localPort}`;
}

/** Registers `GET /api/prometheus/targets`: read-only, like /api/snapshot, so no token. */
export function addPrometheusSdRoute(app: HttpServer, source: ProcessSource): void {
  app.get(
    prometheusSdPath,
    {
      schema: {
        tags: ['console'],
        summary: 'Prometheus HTTP service discovery: every process and the console, labelled',
      },
    },
    (request) => targetGroupsOf(source.list(), localAddressOf(request.raw.socket)),
  );
}

type QueueFigure = 'length' | 'pending' | 'lag' | 'consumers' | 'deadLetters';

const queueGauges: { figure: QueueFigure; name: string; help: string }[] = [
  { figure: 'length', name: 'agora_queue_length', help: 'Entries in the stream (XLEN).' },
  {
    figure: 'pending',
    name: 'agora_queue_pending',
    help: "Entries the group's consumers have read and not acknowledged.",
  },
  { figure: 'lag', name: 'agora_queue_lag', help: 'Entries the group has not read yet.' },
  { figure: 'consumers', name: 'agora_queue_consumers', help: 'Consumers in the group.' },
  {
    figure: 'deadLetters',
    name: 'agora_queue_dead_letters',
    help: 'Entries in the stream of unparseable entries.',
  },
];

/**
 * The console's queue figures as gauges on its own `/metrics`, by system, stream and group:
 * the services do not export them (they are the broker's), the console reads them each look.
 */
export function registerQueueMetrics(
  registry: Registry,
  queues: () => readonly QueueFigures[],
): void {
  for (const { figure, name, help } of queueGauges) {
    new Gauge({
      name,
      help: `${help} From the console's last look.`,
      labelNames: ['system', 'stream', 'group'],
      registers: [registry],
      collect(this: Gauge) {
        this.reset();
        for (const queue of queues()) {
          const value = queue[figure];
          if (value === undefined) continue;
          this.set({ system: queue.system, stream: queue.stream, group: queue.group }, value);
        }
      },
    });
  }
}
