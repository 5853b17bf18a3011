/**
 * Settings every service shares: bind address, logging, and where Redis and Postgres are.
 * The seeds' REDIS_HOST / REDIS_PORT keep working beside REDIS_URL.
 */
import { type ConfigOf, type Env, loadConfig, settings } from './config.js';
import { logLevels } from './log-levels.js';

export const platformSettings = {
  host: settings.string('HOST', {
    default: '127.0.0.1',
    description: 'Address services bind to (0.0.0.0 in the container image).',
  }),
  logLevel: settings.oneOf('LOG_LEVEL', logLevels, {
    default: 'info',
    description: 'Least severe log level written; request lines are debug.',
  }),
  logFormat: settings.oneOf('LOG_FORMAT', ['json', 'pretty'], {
    description: 'json or pretty; pretty by default when stdout is a terminal.',
  }),
  shutdownTimeoutMs: settings.integer(
    'AGORA_SHUTDOWN_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    { default: 10_000, description: 'How long a graceful stop may take before the process exits.' },
  ),
  redisUrl: settings.url('REDIS_URL', ['redis:', 'rediss:'], {
    description: 'Redis to use; unset means the embedded broker (agora up only).',
  }),
  redisHost: settings.string('REDIS_HOST', {
    description:
      "The seed's way to name Redis: host, with REDIS_PORT; used when REDIS_URL is unset.",
  }),
  redisPort: settings.port('REDIS_PORT', { default: 6379, description: 'Port for REDIS_HOST.' }),
  redisPrefix: settings.string('AGORA_REDIS_PREFIX', {
    description: 'Prefix for every Redis key, to share one Redis between deployments.',
  }),
  databaseUrl: settings.url('DATABASE_URL', ['postgres:', 'postgresql:'], {
    description:
      'Postgres to use; unset means embedded PGlite under AGORA_DATA_DIR (agora up only).',
  }),
  databaseSchema: settings.string('AGORA_DB_SCHEMA', {
    default: 'public',
    description: 'Postgres schema holding every table.',
  }),
  dataDir: settings.string('AGORA_DATA_DIR', {
    default: '.agora/data',
    description:
      'Where embedded PGlite keeps its files, and the embedded broker its log (broker/).',
  }),
  brokerFsync: settings.oneOf('AGORA_BROKER_FSYNC', ['always', 'everysec'], {
    default: 'always',
    description:
      "The embedded broker's log: always fsyncs before answering (once per event-loop turn); " +
      'everysec fsyncs each second, so a machine crash loses up to a second (a process kill, nothing).',
  }),
};

export type PlatformConfig = ConfigOf<typeof platformSettings>;

export function loadPlatformConfig(env: Env = process.env): PlatformConfig {
  return loadConfig(platformSettings, env);
}

/** REDIS_URL, else the seed's REDIS_HOST and REDIS_PORT, else nothing (embedded). */
export function redisUrlOf(config: PlatformConfig): string | undefined {
  if (config.redisUrl !== undefined) return config.redisUrl;
  if (config.redisHost !== undefined) return `redis://${config.redisHost}:${config.redisPort}`;
  return undefined;
}

/** `election-gateway` -> `ELECTION_GATEWAY`, for AGORA_<SERVICE>_URL and AGORA_<SERVICE>_PORT. */
export function envNameOf(service: string): string {
  return service.toUpperCase().replaceAll('-', '_');
}
