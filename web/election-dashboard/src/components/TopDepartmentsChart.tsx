/** Seed 004's bar chart: the departments with the most votes for the chosen ballot type. */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { DepartmentVotes } from '../api.js';
import { formatCount } from '../format.js';
import { t } from '../i18n.js';
import { EmptyChart } from './EmptyChart.js';

export function TopDepartmentsChart({ data }: { data: DepartmentVotes | undefined }) {
  const items = data?.items ?? [];
  if (items.length === 0) return <EmptyChart loading={data === undefined} />;
  const description = items
    .map((item) => `${item.departamento}: ${formatCount(item.votes)}`)
    .join(', ');
  return (
    <figure className="chart" role="img" aria-label={`${t.votesByDepartment}: ${description}`}>
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={items} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="departamento" interval={0} tick={{ fontSize: 12 }} />
          <YAxis allowDecimals={false} tickFormatter={formatCount} width={56} />
          <Tooltip formatter={(value) => formatCount(Number(value))} />
          <Bar dataKey="votes" name={t.votes} fill="#2563eb" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
