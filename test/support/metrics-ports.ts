/**
 * The port each service's `/metrics` answers on in a container, from the registry: its admin
 * port (a stream consumer's only port is its admin port). The Prometheus configurations of
 * deploy/monitoring/ and the scrape annotations of deploy/k8s must name the same ports.
 */
import { healthPortOf } from '../../src/cli/health.js';
import { services } from '../../src/services.js';

export const metricsPorts: Readonly<Record<string, number>> = Object.fromEntries(
  services.map((definition) => [definition.name, healthPortOf(definition)]),
);
