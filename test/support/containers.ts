/**
 * Docker engine operations the deploy suite's experiments use (the seeds' `docker rm -f`,
 * `docker kill`, `docker stop`, `docker run --read-only`), and the figures it prints: memory
 * per container from `docker stats`.
 */
import { tool, toolOutput } from './deploy-tools.js';
import { waitFor } from './processes.js';

/** `docker inspect -f <format> <id>`, trimmed. */
export async function inspect(id: string, format: string): Promise<string> {
  return (await toolOutput('docker', ['inspect', '-f', format, id])).trim();
}

/** Stops the container with SIGTERM (its grace period, then SIGKILL) and returns its exit code. */
export async function stopContainer(id: string, graceSeconds: number): Promise<number> {
  await toolOutput('docker', ['stop', '-t', String(graceSeconds), id]);
  return Number(await inspect(id, '{{.State.ExitCode}}'));
}

/** Waits until the container's HEALTHCHECK says healthy. */
export async function waitContainerHealthy(id: string, timeoutMs: number): Promise<void> {
  let status = '';
  await waitFor(
    async () => {
      status = await inspect(id, '{{if .State.Health}}{{.State.Health.Status}}{{end}}');
      return status === 'healthy';
    },
    { timeoutMs, intervalMs: 500, message: () => `container ${id} healthy (now "${status}")` },
  );
}

/** Memory in use per running container of the project, from one `docker stats` sample. */
export async function memoryByContainer(project: string): Promise<Map<string, string>> {
  const ids = (
    await toolOutput('docker', [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
    ])
  )
    .split('\n')
    .filter(Boolean);
  const memory = new Map<string, string>();
  if (ids.length === 0) return memory;
  const output = await toolOutput('docker', [
    'stats',
    '--no-stream',
    '--format',
    '{{.Name}}\t{{.MemUsage}}',
    ...ids,
  ]);
  for (const line of output.split('\n').filter(Boolean)) {
    const [name = '', usage = ''] = line.split('\t');
    memory.set(name, usage.split(' / ')[0] ?? usage);
  }
  return memory;
}

/** Removes containers by id, ignoring ones already gone. */
export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await tool('docker', ['rm', '-f', '-v', ...ids]);
}
