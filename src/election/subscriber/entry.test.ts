/** Stream entries: the gateway's entries parse, anything else is refused with a reason. */
import { describe, expect, it } from 'vitest';

import { ballotEntry } from '../protocol.js';
import { parseBallotEntry } from './entry.js';

const ballot = {
  id: 'b-1',
  sede: 'Escuela 5',
  municipio: 'Cobán',
  departamento: 'Alta Verapaz',
  papeleta: 'alcalde',
  partido: 'VAMOS',
};

describe('parseBallotEntry', () => {
  it('reads what the gateway appends', () => {
    expect(parseBallotEntry({ id: '1-0', fields: ballotEntry(ballot) })).toEqual({
      ok: true,
      item: { entryId: '1-0', ballot },
    });
  });

  it('gives an entry without an id one derived from its stream id, the same every time', () => {
    const withoutId: Partial<typeof ballot> = { ...ballot };
    delete withoutId.id;
    const entry = { id: '17-3', fields: { ballot: JSON.stringify(withoutId) } };
    const parsed = parseBallotEntry(entry);
    expect(parsed.ok && parsed.item.ballot.id).toBe('stream-17-3');
  });

  it.each([
    ['no ballot field', { vote: 'a' }, 'the field "ballot" is missing'],
    ['broken JSON', { ballot: '{"sede":' }, '"ballot" is not JSON'],
    [
      'a bad ballot',
      { ballot: JSON.stringify({ ...ballot, partido: '' }) },
      'partido must not be empty',
    ],
    ['not an object', { ballot: '[1]' }, 'must be a JSON object'],
  ])('refuses %s with the reason', (_case, fields, reason) => {
    const parsed = parseBallotEntry({ id: '1-0', fields });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });
});
