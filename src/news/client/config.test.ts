/** The session file: created 0600 through a temporary file, never written through a symlink. */
import { lstat, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { UsageError } from '../../platform/errors.js';
import { readClientConfig, writeClientConfig } from './config.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-news-config-'));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the session file', () => {
  it('is written with mode 0600, replacing a wider older file, and read back', async () => {
    const path = join(dir, 'news.json');
    await writeFile(path, '{}', { mode: 0o644 });
    await writeClientConfig(path, { token: 'v1.secret.token' });
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
    expect(await readClientConfig(path)).toEqual({ token: 'v1.secret.token' });
  });

  it('refuses a symbolic link at its path and leaves the link target untouched', async () => {
    const target = join(dir, 'elsewhere');
    await writeFile(target, 'not yours', { mode: 0o644 });
    const path = join(dir, 'news.json');
    await symlink(target, path);
    await expect(writeClientConfig(path, { token: 't' })).rejects.toBeInstanceOf(UsageError);
    expect(await readFile(target, 'utf8')).toBe('not yours');
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
  });
});
