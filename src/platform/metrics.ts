/**
 * Prometheus metrics: a registry per service with the default process metrics, labelled with
 * the service name so services sharing one process (`agora up`) stay apart, and
 * `agora_process_info{pid, replica}` so the console can tell replicas apart (cluster workers
 * share one port, and so one scrape URL).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'agora_process_info',
    help: 'Always 1: which process (pid) and replica (AGORA_REPLICA) answered this scrape.',
    labelNames: ['pid', 'replica'],
    registers: [registry],
  });
  info.set({ pid: String(process.pid), replica: process.env.AGORA_REPLICA ?? '1' }, 1);
  return registry;
}
