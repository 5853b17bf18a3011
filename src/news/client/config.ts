/**
 * The console client's user config file: the agent's address and the session token, so
 * `agora news login` once serves later commands. AGORA_NEWS_CONFIG overrides the path (tests
 * use a temporary file); the file is written with mode 0600 because the token is a credential.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

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
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older, wider file must not keep a token.
  await chmod(path, 0o600);
}

export async function clearClientConfig(path: string): Promise<void> {
  await rm(path, { force: true });
}
