/**
 * Seed 004's table of all ballots, newest first, paged on the server: "next" follows the
 * keyset cursor the API returns, "previous" goes back along the cursors already seen.
 */
import { useState } from 'react';

import { apiPath, type BallotsPage, type Options } from '../api.js';
import { formatCount, formatTime } from '../format.js';
import { t } from '../i18n.js';
import { useApi } from '../useApi.js';
import { useDebounced } from '../useDebounced.js';
import { BallotFilters, type Filters, noFilters } from './BallotFilters.js';
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
    <Panel id="ballots" title={t.all} error={error} wide>
      <BallotFilters
        options={options}
        filters={filters}
        onChange={(next) => {
          setFilters(next);
          setCursors([undefined]);
        }}
      />
      <div className="table-scroll" tabIndex={0} aria-label={t.scrollHint}>
        <table>
          <caption className="visually-hidden">{t.allCaption}</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
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
            {(data?.items ?? []).map((ballot) => (
              <tr key={ballot.id}>
                <td>{ballot.seq}</td>
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
      <nav className="pager" aria-label={t.pages}>
        <button
          type="button"
          disabled={page === 1}
          onClick={() => {
            setCursors(cursors.slice(0, -1));
          }}
        >
          {t.previous}
        </button>
        <span data-testid="ballots-page">
          {t.page(
            formatCount(page),
            pages === undefined ? undefined : formatCount(pages),
            data?.total == null ? undefined : formatCount(data.total),
          )}
        </span>
        <button
          type="button"
          disabled={data?.nextBefore == null}
          onClick={() => {
            if (data?.nextBefore != null) setCursors([...cursors, data.nextBefore]);
          }}
        >
          {t.next}
        </button>
      </nav>
    </Panel>
  );
}
