/**
 * What every profile's test does around its own checks: bring the project up, wait until every
 * container is healthy and print the figures deploy/README.md quotes (time to healthy, memory
 * per container); and the `--read-only` run of a service beside the project.
 */
import type { ComposeProject } from '../../support/compose-project.js';
import {
  inspect,
  memoryByContainer,
  removeContainers,
  stopContainer,
  waitContainerHealthy,
} from '../../support/containers.js';
import { toolOutput } from '../../support/deploy-tools.js';
import { type ManagedProcess, startProcess } from '../../support/processes.js';

/** Brings the project up and waits for at least `containers` healthy containers. */
export async function bringUp(project: ComposeProject, containers: number): Promise<void> {
  const started = Date.now();
  try {
    await project.up();
    await project.waitHealthy(180_000, containers);
  } catch (error) {
    process.stderr.write(`${await project.logs()}\n`);
    await project.down();
    throw error;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const memory = await memoryByContainer(project.name);
  const lines = [...memory].map(
    ([name, used]) => `  ${name.replace(`${project.name}_`, '')}: ${used}`,
  );
  process.stderr.write(
    `deploy figures: profile ${project.profiles.join('+')}: ${memory.size} containers healthy ` +
      `${seconds} s after up; memory per container (docker stats):\n${lines.join('\n')}\n`,
  );
}

/**
 * Runs `service` again beside the project with `docker run --read-only` (a tmpfs on /tmp only),
 * with the environment and networks of the project's container, until its HEALTHCHECK says
 * healthy (checked every second); then stops it with SIGTERM and returns its exit code.
 */
export async function readOnlyRun(
  project: ComposeProject,
  service: string,
  replica = 1,
): Promise<number> {
  const twin = await project.container(service, replica);
  const env = JSON.parse(await inspect(twin, '{{json .Config.Env}}')) as string[];
  const networks = Object.keys(
    JSON.parse(await inspect(twin, '{{json .NetworkSettings.Networks}}')) as Record<
      string,
      unknown
    >,
  );
  const entrypoint = JSON.parse(await inspect(twin, '{{json .Config.Entrypoint}}')) as string[];
  const command = JSON.parse(await inspect(twin, '{{json .Config.Cmd}}')) as string[];
  const [first = '', ...rest] = entrypoint;
  const id = (
    await toolOutput('docker', [
      'run',
      '-d',
      '--read-only',
      '--tmpfs',
      '/tmp',
      // The image checks every 10 s, so its first check would come 10 s after start; Docker
      // Engine 20.10 has no start interval. The check itself is the image's.
      '--health-interval',
      '1s',
      '--label',
      `com.docker.compose.project=${project.name}`,
      '--label',
      `agora.read-only-of=${service}`,
      '--network',
      networks[0] ?? project.network('back-tier'),
      ...env.flatMap((pair) => ['-e', pair]),
      '--entrypoint',
      first,
      'agora:latest',
      ...rest,
      ...command,
    ])
  ).trim();
  try {
    await waitContainerHealthy(id, 120_000);
    return await stopContainer(id, 15);
  } finally {
    await removeContainers([id]);
  }
}

/**
 * Runs the image with `args` (an `agora` command) on the project's back network with the
 * environment of the project's `service` container, so that it finds every service by name.
 */
export async function runBeside(
  project: ComposeProject,
  service: string,
  args: readonly string[],
): Promise<ManagedProcess> {
  const env = JSON.parse(
    await inspect(await project.container(service), '{{json .Config.Env}}'),
  ) as string[];
  return startProcess('docker', [
    'run',
    '--rm',
    '--label',
    `com.docker.compose.project=${project.name}`,
    '--network',
    project.network('back-tier'),
    ...env.flatMap((pair) => ['-e', pair]),
    'agora:latest',
    ...args,
  ]);
}
