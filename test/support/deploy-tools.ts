/**
 * The command-line tools the deployment tests drive (docker-compose, kubectl, docker): run one
 * and get its output, or fail with a line saying how to install it. Nothing is skipped silently.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { parseAllDocuments } from 'yaml';

import { repoRoot } from './processes.js';

const run = promisify(execFile);

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const installHints: Record<string, string> = {
  'docker-compose': 'apt-get install docker-compose (.ci/run installs it)',
  kubectl: 'apt-get install kubernetes-client (.ci/run installs it when no kubectl is on PATH)',
};

/**
 * The secrets deploy/compose.yaml requires (it has no defaults), random for this test process
 * and long enough for every service's minimum; set in the environment, those win.
 */
export const deploySecrets: Readonly<Record<string, string>> = {
  AGORA_VOTE_SECRET: randomBytes(32).toString('hex'),
  AGORA_NEWS_SECRET: randomBytes(32).toString('hex'),
  POSTGRES_PASSWORD: randomBytes(16).toString('hex'),
};

/** A deploy secret as the tools get it: the environment's value, else this process's. */
export function deploySecret(name: string): string {
  return process.env[name] ?? deploySecrets[name] ?? '';
}

/**
 * Runs a tool from the repository root, with `deploySecrets` in its environment but for the
 * variables named in `unset`; a missing tool throws with its install hint.
 */
export async function tool(
  command: string,
  args: readonly string[],
  options: { unset?: readonly string[] } = {},
): Promise<ToolResult> {
  const unset = new Set(options.unset ?? []);
  const env = Object.fromEntries(
    Object.entries({ ...deploySecrets, ...process.env, DOCKER_CLI_HINTS: 'false' }).filter(
      ([name]) => !unset.has(name),
    ),
  );
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') {
      throw new Error(`${command} is missing: ${installHints[command] ?? `install ${command}`}`);
    }
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

/** Runs a tool and returns its stdout; a non-zero exit throws with its stderr. */
export async function toolOutput(command: string, args: readonly string[]): Promise<string> {
  const result = await tool(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  }
  return result.stdout;
}

/** A published port as docker-compose config writes it: long form, or short with a host address. */
export interface PublishedPort {
  target: number;
  published?: number | string;
  host_ip?: string;
}

/** `127.0.0.1:9000-9001:9000/tcp` (or the long form) as its parts. */
export function parsePort(port: PublishedPort | string): PublishedPort {
  if (typeof port !== 'string') return port;
  const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
  const target = Number(parts.at(-1));
  const published = parts.length >= 2 ? parts.at(-2) : undefined;
  const hostIp = parts.length >= 3 ? parts.slice(0, -2).join(':') : undefined;
  return {
    target,
    ...(published === undefined || published === '' ? {} : { published }),
    ...(hostIp === undefined ? {} : { host_ip: hostIp }),
  };
}

/** Every YAML document in `text` as plain data; a YAML error throws. */
export function parseYamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.join('\n'));
    const value: unknown = document.toJS();
    return value === null ? [] : [value];
  });
}

/**
 * Logs the services a deployment file runs that the registry does not list yet (another
 * system's branch not merged): they are not checked, and the log says so.
 */
export function reportUnregistered(
  where: string,
  deployed: Iterable<string>,
  registered: ReadonlySet<string>,
): string[] {
  const waiting = [...deployed].filter((name) => !registered.has(name)).sort();
  if (waiting.length > 0) {
    process.stderr.write(
      `deploy test: ${where} runs ${waiting.join(', ')}, not in src/services.ts yet: ` +
        'not cross-checked until registered\n',
    );
  }
  return waiting;
}
