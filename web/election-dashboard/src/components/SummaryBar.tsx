/** The headline figures: ballots stored, per route, the ingest rate and whether it is live. */
import type { Summary } from '../api.js';
import { formatCount, formatRate } from '../format.js';
import { t } from '../i18n.js';

interface SummaryBarProps {
  summary: Summary | undefined;
  connected: boolean;
}

export function SummaryBar({ summary, connected }: SummaryBarProps) {
  const figures = [
    { id: 'total', label: t.stored, value: summary && formatCount(summary.total) },
    { id: 'grpc', label: t.viaGrpc, value: summary && formatCount(summary.byRoute.grpc) },
    { id: 'redis', label: t.viaRedis, value: summary && formatCount(summary.byRoute.redis) },
    {
      id: 'rate',
      label: t.perSecond,
      value: summary && formatRate(summary.ratePerSecond),
    },
  ];
  return (
    <section className="summary" aria-label={t.summary} data-testid="summary">
      {figures.map((figure) => (
        <div className="figure" key={figure.id}>
          <span className="figure-label">{figure.label}</span>
          <strong className="figure-value" data-testid={`summary-${figure.id}`}>
            {figure.value ?? '…'}
          </strong>
        </div>
      ))}
      <p className={connected ? 'live live-on' : 'live'} role="status" data-testid="live">
        {connected ? t.live : t.reconnecting}
      </p>
    </section>
  );
}
