/**
 * Seed 004's bar chart of the polling stations (sedes) with the most votes. Sede names are
 * long ("Escuela Oficial Rural Mixta No. 2, Mixco"), so each is written over its bar rather
 * than squeezed into an axis (see SedeLabel).
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  LabelList,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

import type { SedeVotes } from '../api.js';
import { formatCount } from '../format.js';
import { t } from '../i18n.js';
import { EmptyChart } from './EmptyChart.js';
import { SedeLabel } from './SedeLabel.js';

export function TopSedesChart({ data }: { data: SedeVotes | undefined }) {
  // The count first, so it stays readable when a long name is cut short.
  const items = (data?.items ?? []).map((item) => ({
    ...item,
    label: `${formatCount(item.votes)} · ${item.sede}`,
  }));
  if (items.length === 0) return <EmptyChart loading={data === undefined} />;
  const description = items.map((item) => `${item.sede}: ${formatCount(item.votes)}`).join(', ');
  return (
    <figure className="chart" role="img" aria-label={`${t.votesBySede}: ${description}`}>
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={items} layout="vertical" margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" allowDecimals={false} tickFormatter={formatCount} />
          <YAxis type="category" dataKey="sede" hide />
          <Tooltip
            formatter={(value) => formatCount(Number(value))}
            labelFormatter={(label, payload) => {
              const place = payload[0]?.payload as { departamento?: string } | undefined;
              const sede = typeof label === 'string' ? label : '';
              return `${sede} (${place?.departamento ?? ''})`;
            }}
          />
          <Bar dataKey="votes" name={t.votes} fill="#86efac" barSize={34} isAnimationActive={false}>
            <LabelList dataKey="label" content={SedeLabel} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
