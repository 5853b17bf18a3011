/**
 * The console client's user config file: the agent's address and the session token, so
 * `agora news login` once serves later commands. AGORA_NEWS_CONFIG overrides the path (tests
 * use a temporary file). The token is a credential: the file is written to a temporary file
 * created with mode 0600 and renamed over the old one, so it is never readable by others for
 * a moment, and a symlink at the path is refused rather than followed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { UsageError } from '../../platform/errors.js';

export interface ClientConfig {
  token?: string;
  user?: { name: string; admin: boolean };
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AGORA_NEWS_CONFIG !== undefined && env.AGORA_NEWS_CONFIG !== '') {
    return env.AGORA_NEWS_CONFIG;
  }
  const base = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(base, 'agora', 'news.json');
}

export async function readClientConfig(path: string): Promise<ClientConfig> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    // Missing or unreadable: as if never logged in.
    return {};
  }
}

export async function writeClientConfig(path: string, config: ClientConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await refuseSymlink(path);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': created here, by us, with 0600 from the first byte; never an existing file or link.
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(config, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    // rename replaces a link at `path` itself rather than writing through it.
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A session file that is a symbolic link could point anywhere: refuse to write through it. */
async function refuseSymlink(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (stat?.isSymbolicLink() === true) {
    throw new UsageError(
      `${path} is a symbolic link; the session file must be a plain file (remove the link, or set AGORA_NEWS_CONFIG)`,
    );
  }
}

export async function clearClientConfig(path: string): Promise<void> {
  await rm(path, { force: true });
}
