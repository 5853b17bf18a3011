/** Seed 004's pie charts: each party's share of the votes in one department or municipality. */
import { Legend, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';

import type { PartyShare } from '../api.js';
import { colorOf } from '../colors.js';
import { formatCount, formatPercent } from '../format.js';
import { t } from '../i18n.js';
import { EmptyChart } from './EmptyChart.js';

interface PartySharePieProps {
  data: PartyShare | undefined;
  place: string;
  /** Every party in the data, sorted: gives each the same colour in both pies. */
  partidos: readonly string[];
  /** Still waiting for an answer; false once it is known there is nothing to draw. */
  loading: boolean;
}

export function PartySharePie({ data, place, partidos, loading }: PartySharePieProps) {
  // Recharts fills each slice from its data item's `fill`.
  const items = (data?.items ?? []).map((item) => ({
    ...item,
    fill: colorOf(item.partido, partidos),
  }));
  if (items.length === 0) return <EmptyChart loading={loading && data === undefined} />;
  const percentOf = new Map(items.map((item) => [item.partido, item.percent]));
  const description = items
    .map((item) => `${item.partido} ${formatPercent(item.percent)}`)
    .join(', ');
  return (
    <figure
      className="chart"
      role="img"
      aria-label={`${t.votesByParty(place, formatCount(data?.total ?? 0))}: ${description}`}
    >
      <ResponsiveContainer width="100%" height={340}>
        <PieChart>
          <Pie
            data={items}
            dataKey="votes"
            nameKey="partido"
            outerRadius="80%"
            isAnimationActive={false}
          />
          <Tooltip formatter={(value, name) => [formatCount(Number(value)), String(name)]} />
          <Legend
            wrapperStyle={{ fontSize: 12 }}
            formatter={(value: string) => `${value} ${formatPercent(percentOf.get(value) ?? 0)}`}
          />
        </PieChart>
      </ResponsiveContainer>
    </figure>
  );
}
