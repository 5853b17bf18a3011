/**
 * What a started service keeps in memory that it no longer needs: the bundle's chunks are
 * Latin-1 throughout (rolldown.config.ts), so V8 keeps each one's source one byte per
 * character.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { repoRoot } from '../support/processes.js';

describe('a resting service', () => {
  it('loads chunks whose sources V8 keeps one byte per character', async () => {
    const dir = join(repoRoot, 'dist/cli');
    const chunks = (await readdir(dir)).filter((name) => name.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(20);
    const wide: string[] = [];
    for (const chunk of chunks) {
      const code = await readFile(join(dir, chunk), 'utf8');
      // One UTF-16 code unit above 0xFF (an astral character's surrogates too) and V8 keeps
      // the whole source two bytes per character.
      const found = /[\u0100-\uffff]/.exec(code);
      if (found !== null) wide.push(`${chunk}: U+${found[0].charCodeAt(0).toString(16)}`);
    }
    expect(wide).toEqual([]);
  });
});
