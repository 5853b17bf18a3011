/**
 * The one container image, checked without a Docker engine (the deploy suite runs it): deploy/Dockerfile read statically
 * (multi-stage, non-root, `agora run <service>`, a health check for every service) and the
 * `agora health` command its HEALTHCHECK runs, against a real service process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findService } from '../../src/services.js';
import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  execForm,
  globalArgs,
  parseDockerfile,
  resolveImage,
  type Stage,
} from '../support/dockerfile.js';
import {
  agoraCli,
  freePort,
  killAll,
  repoRoot,
  startAgora,
  waitForHttp,
} from '../support/processes.js';

const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const dockerfile = readFileSync(join(repoRoot, 'deploy/Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const args = globalArgs(dockerfile);
const runtime = stages.at(-1) as Stage;

function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

async function agora(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout } = await run(process.execPath, [agoraCli, ...args], { env });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('deploy/Dockerfile (read statically; npm run test:deploy builds and runs it)', () => {
  it('builds in one stage with npm ci and npm run build, then drops dev dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => stage.name === 'build');
    const steps = argsOf(build as Stage, 'RUN').join(' && ');
    expect(steps).toMatch(/npm ci\b/);
    expect(steps).toMatch(/npm run build\b/);
    expect(steps).toMatch(/npm prune --omit=dev\b/);
  });

  it('runs from a slim Node image, resolved as a build resolves its ARG', () => {
    // The FROM line says ${NODE_IMAGE}; what is checked is the image it names by default.
    const image = resolveImage(runtime.from, args);
    expect(image).toMatch(/^node:\d+(\.\d+)*-(bookworm|trixie)-slim$/);
    const [major] = /\d+/.exec(image) ?? [];
    const floor = /\d+/.exec(packageJson.engines.node)?.[0];
    expect(major, 'the base image is the Node major of package.json engines').toBe(floor);
  });

  it('copies into the runtime only what the build stage made, and no sources', () => {
    const copies = argsOf(runtime, 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).toMatch(/^--from=build /);
    // The bundled command and the pages' builds; not tsc's output the bundle was made from.
    expect(copies.join('\n')).toMatch(/\/app\/dist\/cli /);
    expect(copies.join('\n')).toMatch(/\/app\/dist\/web /);
    expect(copies.join('\n')).toMatch(/\/app\/node_modules /);
    expect(copies.join('\n')).not.toMatch(/\/app\/(dist\/)?src\b/);
  });

  it('runs as a user other than root', () => {
    const [user] = argsOf(runtime, 'USER').slice(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts `agora run <service>` bound to every interface', () => {
    expect(execForm(argsOf(runtime, 'ENTRYPOINT').at(-1) ?? '')).toEqual([
      'node',
      'dist/cli/main.js',
    ]);
    const command = execForm(argsOf(runtime, 'CMD').at(-1) ?? '');
    expect(command?.[0]).toBe('run');
    expect(findService(command?.[1] ?? '')).toBeDefined();
    expect(argsOf(runtime, 'ENV').join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  it('has a HEALTHCHECK that runs `agora health`', () => {
    const [healthcheck] = argsOf(runtime, 'HEALTHCHECK');
    const command = /\bCMD\s+(\[.*\])$/.exec(healthcheck ?? '')?.[1];
    expect(execForm(command ?? '')).toEqual(['node', 'dist/cli/main.js', 'health']);
  });

  it('has a .dockerignore that keeps node_modules, dist and .git out of the context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.git']) expect(ignored).toContain(entry);
  });
});

describe('agora health (the image HEALTHCHECK)', () => {
  let port: number;
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json' };

  beforeAll(async () => {
    port = await freePort();
    // The counter's admin port (port + 100 by default) is what `agora health` asks; a free one
    // is named, so the test does not depend on port + 100 being free.
    env.COUNTER_ADMIN_PORT = String(await freePort());
    startAgora(['run', 'counter'], {
      env: {
        ...env,
        PORT: String(port),
        REDIS_URL: testRedisUrl,
        AGORA_REDIS_PREFIX: `${uniqueName('health')}:`,
      },
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  });

  afterAll(() => killAll());

  it('is healthy, exit 0, when the service in the container answers at PORT', async () => {
    const result = await agora(['health'], { ...env, PORT: String(port) });
    // Other test files may run services on default ports of this machine; any answer is health.
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^healthy: http:\/\/127\.0\.0\.1:\d+\/healthz\n$/);
  });

  it('is healthy when the named service answers', async () => {
    const result = await agora(['health', 'counter'], { ...env, PORT: String(port) });
    expect(result.code).toBe(0);
  });

  it('is unhealthy, exit 1, when nothing answers /healthz on the admin port', async () => {
    const idle = await freePort();
    const result = await agora(['health', 'counter'], {
      ...env,
      PORT: String(port),
      COUNTER_ADMIN_PORT: String(idle),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`unhealthy: no /healthz answered 2xx on 127.0.0.1 port ${idle}\n`);
  });

  it('is a usage error, exit 2, for a service the registry does not have', async () => {
    const result = await agora(['health', 'no-such-service'], env);
    expect(result.code).toBe(2);
  });
});
