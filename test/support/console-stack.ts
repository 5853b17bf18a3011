/**
 * A distributed stack with its console, on free ports, in its own Redis prefix and Postgres
 * schema: the environment `agora up --distributed` needs so that nothing it starts lands on a
 * default port, and each service finds the others where they really are.
 */
import { envNameOf } from '../../src/platform/platform-settings.js';
import { services } from '../../src/services.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from './backends.js';
import { freePort, type ManagedProcess, startAgora } from './processes.js';

export interface ConsoleStack {
  up: ManagedProcess;
  consoleUrl: string;
  token: string;
  env: NodeJS.ProcessEnv;
  prefix: string;
  schema: string;
  /** The port each service's first replica listens on. */
  ports: Map<string, number>;
}

/**
 * Ports for every service and admin port, with two spare above each for added replicas, and
 * the URLs the services and load profiles read.
 */
export async function stackEnv(extra: Record<string, string> = {}) {
  const env: Record<string, string> = {};
  const ports = new Map<string, number>();
  for (const service of services) {
    // A news node's admin port follows its own (port + 100), so replicas get one each.
    const port = await freePort(service.name === 'news-node' ? [1, 2, 100, 101, 102] : [1, 2]);
    ports.set(service.name, port);
    env[`AGORA_${envNameOf(service.name)}_PORT`] = String(port);
    if (service.admin !== undefined && service.name !== 'news-node') {
      // An admin port set by its variable counts up with the replicas too.
      env[service.admin.variable] = String(await freePort([1, 2]));
    }
  }
  const at = (name: string, scheme = 'http') => `${scheme}://127.0.0.1:${ports.get(name)}`;
  Object.assign(env, {
    AGORA_VOTE_URL: `${at('vote')}/`,
    AGORA_RESULT_URL: `${at('result')}/`,
    AGORA_COUNTER_URL: `${at('counter')}/`,
    AGORA_ELECTION_API_URL: at('election-api'),
    AGORA_ELECTION_GATEWAY_URL: `${at('election-gateway')}/`,
    AGORA_ELECTION_GRPC_URL: `127.0.0.1:${ports.get('election-grpc')}`,
    AGORA_NEWS_AGENT_URL: `127.0.0.1:${ports.get('news-agent')}`,
    AGORA_TASKS_URL: at('tasks'),
  });
  const prefix = `${uniqueName('console')}:`;
  const schema = uniqueName('console');
  const token = `test-token-${uniqueName('t')}`;
  const consolePort = await freePort();
  return {
    ports,
    prefix,
    schema,
    token,
    consolePort,
    env: {
      ...process.env,
      ...env,
      REDIS_URL: testRedisUrl,
      DATABASE_URL: testDatabaseUrl,
      AGORA_REDIS_PREFIX: prefix,
      AGORA_DB_SCHEMA: schema,
      AGORA_CONSOLE: 'true',
      AGORA_CONSOLE_PORT: String(consolePort),
      AGORA_CONSOLE_TOKEN: token,
      AGORA_CONSOLE_INTERVAL_MS: '500',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...extra,
    },
  };
}

/** `agora up --distributed <args>` with its console; resolves once the console answers. */
export async function startConsoleStack(
  args: readonly string[],
  extra: Record<string, string> = {},
): Promise<ConsoleStack> {
  const { env, ports, prefix, schema, token, consolePort } = await stackEnv(extra);
  const up = startAgora(['up', '--distributed', ...args], { env });
  const match = await up.waitForOutput(/console: (http:\/\/\S+?)\/\s/, 30_000);
  const consoleUrl = match[1] ?? `http://127.0.0.1:${consolePort}`;
  return { up, consoleUrl, token, env, prefix, schema, ports };
}
