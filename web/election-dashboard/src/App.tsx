/**
 * The election dashboard (seed 004's front end): totals and ingest rate, the top departments,
 * party shares for a department and a municipality, the top polling stations, the last five
 * ballots and the table of all ballots, each reloaded when the live stream reports new ballots.
 */
import { useState } from 'react';

import {
  apiPath,
  type DepartmentVotes,
  type Options,
  type PartyShare,
  type RecentBallots,
  type SedeVotes,
} from './api.js';
import { BallotsTable } from './components/BallotsTable.js';
import { Panel } from './components/Panel.js';
import { PartySharePie } from './components/PartySharePie.js';
import { Picker } from './components/Picker.js';
import { RecentBallotsTable } from './components/RecentBallotsTable.js';
import { SummaryBar } from './components/SummaryBar.js';
import { TopDepartmentsChart } from './components/TopDepartmentsChart.js';
import { TopSedesChart } from './components/TopSedesChart.js';
import { language, t } from './i18n.js';
import { useApi } from './useApi.js';
import { useLiveSummary } from './useLiveSummary.js';

export function App() {
  const { summary, version, connected } = useLiveSummary();
  const options = useApi<Options>('/api/options', version);
  const [papeleta, setPapeleta] = useState('presidente');
  const [departamento, setDepartamento] = useState('');
  const [municipioPlace, setMunicipioPlace] = useState({ departamento: '', municipio: '' });

  const topDepartments = useApi<DepartmentVotes>(
    apiPath('/api/top-departments', { papeleta, limit: 3 }),
    version,
  );
  const topSedes = useApi<SedeVotes>(apiPath('/api/top-sedes', { papeleta, limit: 5 }), version);

  const departamentos = options.data?.departamentos ?? [];
  // Until a person picks a place, the pies show the leading department and the municipality
  // of the leading polling station.
  const leadingSede = topSedes.data?.items[0];
  const pieDepartamento =
    departamento || (topDepartments.data?.items[0]?.departamento ?? departamentos[0]?.name ?? '');
  const muniDepartamento =
    municipioPlace.departamento || (leadingSede?.departamento ?? pieDepartamento);
  const municipios = departamentos.find((d) => d.name === muniDepartamento)?.municipios ?? [];
  const municipio =
    municipioPlace.municipio ||
    (municipioPlace.departamento === '' ? leadingSede?.municipio : undefined) ||
    (municipios[0] ?? '');
  const departmentShare = useApi<PartyShare>(
    pieDepartamento === ''
      ? undefined
      : apiPath('/api/party-share/department', { papeleta, departamento: pieDepartamento }),
    version,
  );
  const municipalityShare = useApi<PartyShare>(
    municipio === ''
      ? undefined
      : apiPath('/api/party-share/municipality', {
          papeleta,
          departamento: muniDepartamento,
          municipio,
        }),
    version,
  );
  const recent = useApi<RecentBallots>('/api/recent', version);
  const departmentNames = departamentos.map((d) => d.name);
  const partidos = options.data?.partidos ?? [];

  return (
    <div className="page">
      <header className="page-header">
        <h1>{t.title}</h1>
        <a className="lang" href={`?lang=${language === 'es' ? 'en' : 'es'}`}>
          {t.switchTo}
        </a>
        <Picker
          label={t.ballotType}
          value={papeleta}
          choices={options.data?.papeletas ?? []}
          onChange={setPapeleta}
        />
      </header>
      <SummaryBar summary={summary} connected={connected} />
      <main className="grid">
        <Panel id="top-departments" title={t.topDepartments(papeleta)} error={topDepartments.error}>
          <TopDepartmentsChart data={topDepartments.data} />
        </Panel>
        <Panel id="top-sedes" title={t.topSedes(papeleta)} error={topSedes.error}>
          <TopSedesChart data={topSedes.data} />
        </Panel>
        <Panel
          id="department-share"
          title={t.byDepartment}
          error={departmentShare.error}
          controls={
            <Picker
              label={t.departamento}
              value={pieDepartamento}
              choices={departmentNames}
              onChange={setDepartamento}
            />
          }
        >
          <PartySharePie
            data={departmentShare.data}
            place={pieDepartamento}
            partidos={partidos}
            loading={options.data === undefined || pieDepartamento !== ''}
          />
        </Panel>
        <Panel
          id="municipality-share"
          title={t.byMunicipality}
          error={municipalityShare.error}
          controls={
            <>
              <Picker
                label={t.departamento}
                value={muniDepartamento}
                choices={departmentNames}
                onChange={(next) => {
                  setMunicipioPlace({ departamento: next, municipio: '' });
                }}
              />
              <Picker
                label={t.municipio}
                value={municipio}
                choices={municipios}
                onChange={(next) => {
                  setMunicipioPlace({ departamento: muniDepartamento, municipio: next });
                }}
              />
            </>
          }
        >
          <PartySharePie
            data={municipalityShare.data}
            place={`${municipio}, ${muniDepartamento}`}
            partidos={partidos}
            loading={options.data === undefined || municipio !== ''}
          />
        </Panel>
        <Panel id="recent" title={t.recent} error={recent.error} wide>
          <RecentBallotsTable data={recent.data} />
        </Panel>
        <BallotsTable options={options.data} version={version} />
      </main>
    </div>
  );
}
