/**
 * Global setup of the deploy suite (`npm run test:deploy`): a Docker engine that answers
 * (dockerd is started, as root, when none does) and the images, built by
 * deploy/build-images.sh (stand-ins reused when present, the Agora image from the layer cache).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';

import { agoraCli, repoRoot, waitFor } from '../../support/processes.js';

function engineAnswers(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
}

function announce(line: string): void {
  process.stderr.write(`deploy setup: ${line}\n`);
}

export default async function setup(): Promise<void> {
  // The load and emulator runs on this side of the containers use the compiled CLI.
  if (!existsSync(agoraCli)) {
    throw new Error(`${agoraCli} is missing: run npm run build (npm test runs it first)`);
  }
  if (spawnSync('docker', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error('docker is missing: apt-get install docker.io docker-compose debootstrap');
  }
  if (!engineAnswers()) {
    if (process.getuid?.() !== 0) {
      throw new Error('the Docker engine does not answer and only root can start dockerd here');
    }
    announce('no Docker engine answers; starting dockerd (log: /var/log/agora-dockerd.log)');
    const log = openSync('/var/log/agora-dockerd.log', 'a');
    spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
    await waitFor(engineAnswers, { timeoutMs: 60_000, intervalMs: 500, message: 'dockerd' });
  }
  const started = Date.now();
  const build = spawnSync('bash', ['deploy/build-images.sh'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) throw new Error('deploy/build-images.sh failed (its output is above)');
  const size = spawnSync('docker', ['image', 'inspect', '-f', '{{.Size}}', 'agora:latest'], {
    encoding: 'utf8',
  }).stdout.trim();
  announce(
    `images built in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `agora:latest is ${(Number(size) / 1e6).toFixed(0)} MB`,
  );
}
