/**
 * Ballot validation: the seed's JSON is accepted as is, and each wrong input is refused with
 * a message naming the field (and the array index) at fault.
 */
import { describe, expect, it } from 'vitest';

import { ValidationError } from '../platform/errors.js';
import { ballotIdPattern, parseBallot, parseBallots } from './ballot.js';

const seedBallot = {
  sede: 'Escuela Oficial Rural Mixta',
  municipio: 'Mixco',
  departamento: 'Guatemala',
  papeleta: 'presidente',
  partido: 'UNE',
};

function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parseBallot', () => {
  it('accepts the seed ballot and gives it a fresh id', () => {
    const ballot = parseBallot(seedBallot);
    expect(ballot).toMatchObject(seedBallot);
    expect(ballot.id).toMatch(ballotIdPattern);
    expect(parseBallot(seedBallot).id).not.toBe(ballot.id);
  });

  it('keeps a client id, and treats an empty id as absent (gRPC sends "" for unset)', () => {
    expect(parseBallot({ ...seedBallot, id: 'run-1:42' }).id).toBe('run-1:42');
    expect(parseBallot({ ...seedBallot, id: '' }).id).toMatch(ballotIdPattern);
  });

  it.each([
    ['a missing field', { ...seedBallot, partido: undefined }, 'partido: missing field'],
    ['an empty field', { ...seedBallot, sede: '  ' }, 'sede must not be empty'],
    ['a number', { ...seedBallot, municipio: 7 }, 'municipio must be a string, got a number'],
    ['an object', { ...seedBallot, papeleta: {} }, 'papeleta must be a string, got an object'],
    [
      'a long field',
      { ...seedBallot, departamento: 'x'.repeat(101) },
      'departamento must be at most 100',
    ],
    ['an unknown key', { ...seedBallot, admin: true }, 'admin: unknown field'],
    ['a NUL', { ...seedBallot, sede: 'a\u0000b' }, 'sede must not contain control characters'],
    ['a bad id', { ...seedBallot, id: 'a b' }, 'id must be 1 to 64 characters'],
    ['a long id', { ...seedBallot, id: 'x'.repeat(65) }, 'id must be 1 to 64 characters'],
    ['a numeric id', { ...seedBallot, id: 5 }, 'id must be a string'],
    ['an array', [seedBallot], 'the ballot must be a JSON object'],
    ['null', null, 'the ballot must be a JSON object'],
  ])('refuses %s, naming it', (_case, input, message) => {
    expect(refusal(() => parseBallot(input))).toContain(message);
  });

  it('prefixes the field with the path it is given', () => {
    expect(refusal(() => parseBallot({ ...seedBallot, partido: '' }, '[3]'))).toBe(
      '[3].partido must not be empty',
    );
  });
});

describe('parseBallots', () => {
  it('takes one ballot or an array of them', () => {
    expect(parseBallots(seedBallot, 10)).toHaveLength(1);
    expect(parseBallots([seedBallot, seedBallot], 10)).toHaveLength(2);
  });

  it('names the index of the bad item', () => {
    const items = [seedBallot, seedBallot, seedBallot, { ...seedBallot, partido: 1 }];
    expect(refusal(() => parseBallots(items, 10))).toBe(
      '[3].partido must be a string, got a number',
    );
  });

  it('refuses an empty array and one over the limit', () => {
    expect(refusal(() => parseBallots([], 10))).toContain('no ballots');
    expect(refusal(() => parseBallots([seedBallot, seedBallot], 1))).toContain('at most 1');
  });
});
