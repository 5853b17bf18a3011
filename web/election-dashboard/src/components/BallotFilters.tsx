/** The ballots table's filters: pickers for what the data holds, free text for the sede. */
import { useId } from 'react';

import type { Options } from '../api.js';
import { t } from '../i18n.js';
import { Picker } from './Picker.js';

export interface Filters {
  departamento: string;
  municipio: string;
  sede: string;
  papeleta: string;
  partido: string;
}

export const noFilters: Filters = {
  departamento: '',
  municipio: '',
  sede: '',
  papeleta: '',
  partido: '',
};

interface BallotFiltersProps {
  options: Options | undefined;
  filters: Filters;
  onChange: (filters: Filters) => void;
}

export function BallotFilters({ options, filters, onChange }: BallotFiltersProps) {
  const sedeId = useId();
  const departamentos = options?.departamentos ?? [];
  const municipios =
    departamentos.find((departamento) => departamento.name === filters.departamento)?.municipios ??
    [];
  const set = (change: Partial<Filters>) => {
    onChange({ ...filters, ...change });
  };
  return (
    <form
      className="filters"
      aria-label={t.filters}
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <Picker
        label={t.papeleta}
        value={filters.papeleta}
        choices={options?.papeletas ?? []}
        placeholder={t.everyF}
        onChange={(papeleta) => {
          set({ papeleta });
        }}
      />
      <Picker
        label={t.departamento}
        value={filters.departamento}
        choices={departamentos.map((departamento) => departamento.name)}
        placeholder={t.everyM}
        onChange={(departamento) => {
          set({ departamento, municipio: '' });
        }}
      />
      <Picker
        label={t.municipio}
        value={filters.municipio}
        choices={municipios}
        placeholder={t.everyM}
        onChange={(municipio) => {
          set({ municipio });
        }}
      />
      <Picker
        label={t.partido}
        value={filters.partido}
        choices={options?.partidos ?? []}
        placeholder={t.everyM}
        onChange={(partido) => {
          set({ partido });
        }}
      />
      <label className="picker" htmlFor={sedeId}>
        <span>{t.sede}</span>
        <input
          id={sedeId}
          type="search"
          value={filters.sede}
          maxLength={100}
          placeholder={t.exactName}
          onChange={(event) => {
            set({ sede: event.target.value });
          }}
        />
      </label>
    </form>
  );
}
