/** Seed 004's table of the last five ballots stored, read from Redis. */
import type { RecentBallots } from '../api.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { EmptyChart } from './EmptyChart.js';

export function RecentBallotsTable({ data }: { data: RecentBallots | undefined }) {
  const items = data?.items ?? [];
  if (items.length === 0) return <EmptyChart loading={data === undefined} />;
  return (
    <div className="table-scroll" tabIndex={0} aria-label={t.scrollHint}>
      <table>
        <caption className="visually-hidden">{t.recentCaption}</caption>
        <thead>
          <tr>
            <th scope="col">{t.columns.time}</th>
            <th scope="col">{t.columns.sede}</th>
            <th scope="col">{t.columns.municipio}</th>
            <th scope="col">{t.columns.departamento}</th>
            <th scope="col">{t.columns.papeleta}</th>
            <th scope="col">{t.columns.partido}</th>
            <th scope="col">{t.columns.route}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((ballot) => (
            <tr key={ballot.id}>
              <td>{formatTime(ballot.receivedAt)}</td>
              <td className="sede">{ballot.sede}</td>
              <td>{ballot.municipio}</td>
              <td>{ballot.departamento}</td>
              <td>{ballot.papeleta}</td>
              <td>{ballot.partido}</td>
              <td>{ballot.route}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="scroll-hint">{t.scrollHint}</p>
    </div>
  );
}
