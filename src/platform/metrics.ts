/**
 * Prometheus metrics: a registry per service with the default process metrics, labelled with
 * the service name so services sharing one process (`agora up`) stay apart.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
