/** Seed 004's table of the last five ballots stored, read from Redis. */
import type { RecentBallots } from '../api.js';
import { formatTime } from '../format.js';
import { EmptyChart } from './EmptyChart.js';

export function RecentBallotsTable({ data }: { data: RecentBallots | undefined }) {
  const items = data?.items ?? [];
  if (items.length === 0) return <EmptyChart loading={data === undefined} />;
  return (
    <div className="table-scroll">
      <table>
        <caption className="visually-hidden">Últimas cinco papeletas almacenadas</caption>
        <thead>
          <tr>
            <th scope="col">Hora</th>
            <th scope="col">Sede</th>
            <th scope="col">Municipio</th>
            <th scope="col">Departamento</th>
            <th scope="col">Papeleta</th>
            <th scope="col">Partido</th>
            <th scope="col">Ruta</th>
          </tr>
        </thead>
        <tbody>
          {items.map((ballot) => (
            <tr key={ballot.id}>
              <td>{formatTime(ballot.receivedAt)}</td>
              <td>{ballot.sede}</td>
              <td>{ballot.municipio}</td>
              <td>{ballot.departamento}</td>
              <td>{ballot.papeleta}</td>
              <td>{ballot.partido}</td>
              <td>{ballot.route}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
