/**
 * Each service loads only its own code: reading the registry loads definitions and no package,
 * `agora health` loads only the command-line parser, and `agora run counter` loads neither
 * another system's code nor gRPC, a SQL driver, React or the load generator. A resolve hook in
 * the child writes down every module (or chunk of the bundled command) it loads.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  repoRoot,
  startAgora,
  waitForHttp,
} from '../support/processes.js';

const run = promisify(execFile);

const hookSource = `
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const log = process.env.AGORA_MODULE_LOG;
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    appendFileSync(log, result.url + '\\n');
    return result;
  },
});
`;

let dir: string;
let hook: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-imports-'));
  hook = join(dir, 'log-modules.mjs');
  await writeFile(hook, hookSource);
});

afterEach(() => killAll());

/**
 * The modules a child loaded, as paths relative to the repository (node: builtins left out). A
 * chunk of the bundled command (dist/cli, rolldown.config.ts) stands for the modules it holds,
 * which the bundle names in a comment line before each.
 */
async function modulesIn(log: string): Promise<string[]> {
  const root = pathToFileURL(repoRoot).href + '/';
  const urls = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith(root));
  const loaded = [...new Set(urls.map((url) => url.slice(root.length)))];
  const modules = await Promise.all(
    loaded.map((path) =>
      path.startsWith('dist/cli/') ? modulesOfChunk(path) : Promise.resolve([path]),
    ),
  );
  return [...new Set(modules.flat())];
}

async function modulesOfChunk(chunk: string): Promise<string[]> {
  const code = await readFile(join(repoRoot, chunk), 'utf8');
  return [...code.matchAll(/^\/\/ ((?:dist\/src|node_modules)\/\S+)$/gm)].flatMap((match) =>
    match[1] === undefined ? [] : [match[1]],
  );
}

/** The npm packages among them: `node_modules/@grpc/grpc-js/...` gives `@grpc/grpc-js`. */
function packagesOf(modules: readonly string[]): string[] {
  const names = modules.flatMap((path) => {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    return match?.[1] === undefined ? [] : [match[1]];
  });
  return [...new Set(names)].sort();
}

function logFile(name: string): string {
  return join(dir, `${name}-${uniqueName('log')}.txt`);
}

function hookedEnv(log: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, AGORA_MODULE_LOG: log, ...extra };
}

async function registryModules(): Promise<string[]> {
  const log = logFile('registry');
  const registry = join(repoRoot, 'dist/src/services.js');
  await run(process.execPath, ['--import', hook, registry], { env: hookedEnv(log) });
  return modulesIn(log);
}

describe('the registry', () => {
  it('loads service definitions and no package', async () => {
    const modules = await registryModules();
    expect(modules).toContain('dist/src/counter/service.js');
    expect(modules).toContain('dist/src/election/grpc/service.js');
    expect(packagesOf(modules)).toEqual([]);
    expect(modules).not.toContain('dist/src/election/grpc/server.js');
    expect(modules).not.toContain('dist/src/platform/http/server.js');
  });

  it('lets agora health load only the command-line parser', async () => {
    const log = logFile('health');
    const port = String(await freePort());
    // Nothing listens there, so it answers unhealthy (exit 1) after asking.
    await run(process.execPath, ['--import', hook, agoraCli, 'health', 'counter'], {
      env: hookedEnv(log, { PORT: port }),
    }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 1) throw error;
    });
    expect(packagesOf(await modulesIn(log))).toEqual(['commander']);
  });

  it('lets agora run counter load no other system and no gRPC, SQL, React or load code', async () => {
    const definitions = new Set(await registryModules());
    const log = logFile('counter');
    const port = await freePort();
    const counter = startAgora(['run', 'counter', '--port', String(port)], {
      env: hookedEnv(log, {
        REDIS_URL: testRedisUrl,
        AGORA_REDIS_PREFIX: `${uniqueName('imports')}:`,
        NODE_OPTIONS: `--import ${pathToFileURL(hook).href}`,
      }),
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    await counter.stop();

    const modules = await modulesIn(log);
    expect(modules).toContain('dist/src/counter/server.js');
    const otherSystems = modules.filter(
      (path) => /^dist\/src\/(voting|election|news|tasks)\//.test(path) && !definitions.has(path),
    );
    expect(otherSystems).toEqual([]);
    expect(modules.filter((path) => path.startsWith('dist/src/load/'))).toEqual([]);
    const packages = packagesOf(modules);
    for (const heavy of [
      '@grpc/grpc-js',
      '@grpc/proto-loader',
      '@electric-sql/pglite',
      'pg',
      'react',
      'react-dom',
      'undici',
      'hdr-histogram-js',
    ]) {
      expect(packages).not.toContain(heavy);
    }
    expect(packages).toContain('ioredis');
    // On Redis, not the embedded broker's log.
    expect(modules).not.toContain('dist/src/platform/broker/memory.js');
  });
});
