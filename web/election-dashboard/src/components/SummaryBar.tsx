/** The headline figures: ballots stored, per route, the ingest rate and whether it is live. */
import type { Summary } from '../api.js';
import { formatCount, formatRate } from '../format.js';

interface SummaryBarProps {
  summary: Summary | undefined;
  connected: boolean;
}

export function SummaryBar({ summary, connected }: SummaryBarProps) {
  const figures = [
    { id: 'total', label: 'Papeletas almacenadas', value: summary && formatCount(summary.total) },
    { id: 'grpc', label: 'Vía gRPC', value: summary && formatCount(summary.byRoute.grpc) },
    { id: 'redis', label: 'Vía Redis', value: summary && formatCount(summary.byRoute.redis) },
    {
      id: 'rate',
      label: 'Papeletas por segundo',
      value: summary && formatRate(summary.ratePerSecond),
    },
  ];
  return (
    <section className="summary" aria-label="Resumen" data-testid="summary">
      {figures.map((figure) => (
        <div className="figure" key={figure.id}>
          <span className="figure-label">{figure.label}</span>
          <strong className="figure-value" data-testid={`summary-${figure.id}`}>
            {figure.value ?? '…'}
          </strong>
        </div>
      ))}
      <p className={connected ? 'live live-on' : 'live'} role="status" data-testid="live">
        {connected ? 'En vivo' : 'Reconectando…'}
      </p>
    </section>
  );
}
