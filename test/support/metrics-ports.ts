/**
 * The port each service's `/metrics` answers on in a container: its admin listener, which the
 * Prometheus configurations of deploy/ scrape (deploy/monitoring/). The services declaring an
 * `admin` port in the registry serve it there already; the HTTP services' admin listeners are
 * the ones issue 19 gives them; a stream consumer's only port is its admin port.
 * `metricsPortMismatches` checks the table against the registry wherever it names an admin port.
 */
import { healthPortOf } from '../../src/cli/health.js';
import { services } from '../../src/services.js';

export const metricsPorts: Readonly<Record<string, number>> = {
  counter: 5100,
  vote: 8180,
  result: 8181,
  worker: 8090,
  'election-api': 3004,
  'election-gateway': 3005,
  'election-grpc': 3003,
  'election-subscriber': 3100,
  'news-agent': 8100,
  'news-node': 8105,
  tasks: 9100,
};

/** Registered services missing from the table, or whose declared admin port differs. */
export function metricsPortMismatches(): string[] {
  return services.flatMap((definition) => {
    const port = metricsPorts[definition.name];
    if (port === undefined) return [`${definition.name}: not in test/support/metrics-ports.ts`];
    const declared = definition.admin === undefined ? undefined : healthPortOf(definition);
    return declared !== undefined && declared !== port
      ? [`${definition.name}: the registry says ${declared}, the table ${port}`]
      : [];
  });
}
