/**
 * Seed 004's table of all ballots, newest first, paged on the server: "next" follows the
 * keyset cursor the API returns, "previous" goes back along the cursors already seen.
 */
import { useState } from 'react';
import { apiPath, type BallotsPage, type Options } from '../api.js';
import { formatCount, formatTime } from '../format.js';
import { useApi } from '../useApi.js';
import { useDebounced } from '../useDebounced.js';
import { BallotFilters, noFilters, type Filters } from './BallotFilters.js';
import { Panel } from './Panel.js';

const pageSize = 20;

interface BallotsTableProps {
  options: Options | undefined;
  version: number;
}

export function BallotsTable({ options, version }: BallotsTableProps) {
  const [filters, setFilters] = useState<Filters>(noFilters);
  // cursors[i] is the `before` of page i + 1; page 1 has none.
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const page = cursors.length;
  // The sede is typed: ask the server once the typing pauses, not at every key.
  const sede = useDebounced(filters.sede.trim(), 300);
  const path = apiPath('/api/ballots', {
    ...filters,
    sede,
    pageSize,
    page,
    before: cursors.at(-1),
  });
  const { data, error } = useApi<BallotsPage>(path, version);
  const pages = data?.total == null ? undefined : Math.max(1, Math.ceil(data.total / pageSize));

  return (
    <Panel id="ballots" title="Todas las papeletas" error={error} wide>
      <BallotFilters
        options={options}
        filters={filters}
        onChange={(next) => {
          setFilters(next);
          setCursors([undefined]);
        }}
      />
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">
            Papeletas almacenadas, más recientes primero
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
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
            {(data?.items ?? []).map((ballot) => (
              <tr key={ballot.id}>
                <td>{ballot.seq}</td>
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
      <nav className="pager" aria-label="Páginas">
        <button
          type="button"
          disabled={page === 1}
          onClick={() => {
            setCursors(cursors.slice(0, -1));
          }}
        >
          Anterior
        </button>
        <span data-testid="ballots-page">
          Página {page}
          {pages === undefined ? '' : ` de ${formatCount(pages)}`}
          {data?.total == null ? '' : ` · ${formatCount(data.total)} papeletas`}
        </span>
        <button
          type="button"
          disabled={data?.nextBefore == null}
          onClick={() => {
            if (data?.nextBefore != null) setCursors([...cursors, data.nextBefore]);
          }}
        >
          Siguiente
        </button>
      </nav>
    </Panel>
  );
}
