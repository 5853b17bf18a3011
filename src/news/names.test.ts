/** Names: invisible characters refused, NFKC storage, one key for look-alike names. */
import { describe, expect, it } from 'vitest';

import { nameField, nameKey, userNameField } from './names.js';
import { NewsError } from './protocol.js';

const frame = (name: unknown) => ({ v: 1, id: 1, op: 'register', name });

describe('names', () => {
  it.each([
    ['a C1 control', 'ana\u0085'],
    ['a right-to-left override', '\u202eana'],
    ['a zero-width space', 'an\u200ba'],
    ['a zero-width joiner', 'an\u200da'],
    ['a byte order mark inside', 'an\ufeffa'],
    ['a NUL', 'a\u0000na'],
    ['a private-use character', 'ana\ue000'],
  ])('refuses %s', (_case, name) => {
    expect(() => userNameField(frame(name))).toThrow(NewsError);
    expect(() => nameField(frame(name), 'name', 64)).toThrow(/control or invisible/);
  });

  it('stores a user name in NFKC, trimmed, and keeps an area name as typed', () => {
    expect(userNameField(frame('  Ｂｏｂ  '))).toBe('Bob');
    expect(userNameField(frame('ﬁona'))).toBe('fiona');
    expect(nameField(frame(' Économie '), 'name', 64)).toBe('Économie');
  });

  it.each([
    ['Admin', 'admin'],
    ['ＡＤＭＩＮ', 'admin'],
    ['аdmin', 'admin'], // Cyrillic а
    ['ΑDMIN', 'admin'], // Greek capital alpha
    ['r00t', 'root'],
    ['modern', 'rnodern'],
  ])('gives %s and %s one key', (a, b) => {
    expect(nameKey(a)).toBe(nameKey(b));
  });

  it('keeps different names apart', () => {
    expect(nameKey('ana')).not.toBe(nameKey('anna'));
    expect(nameKey('José')).not.toBe(nameKey('Jose'));
  });
});
