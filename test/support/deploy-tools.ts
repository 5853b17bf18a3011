/**
 * The command-line tools the deployment tests drive (docker-compose, kubectl, docker): run one
 * and get its output, or fail with a line saying how to install it. Nothing is skipped silently.
 */
import { execFile } from 'node:child_process';
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

/** Runs a tool from the repository root; a missing tool throws with its install hint. */
export async function tool(command: string, args: readonly string[]): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, DOCKER_CLI_HINTS: 'false' },
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
