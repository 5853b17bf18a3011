/**
 * The limits every HTTP listener keeps (service ports and admin ports): how long a request may
 * take to arrive, how long a connection may idle, how many may be open. Platform settings,
 * listed in SECURITY.md.
 */
import { type ConfigOf, type Env, loadConfig, settings } from '../config.js';

export const httpLimitSettings = {
  requestTimeoutMs: settings.integer(
    'AGORA_HTTP_REQUEST_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    {
      default: 30_000,
      description:
        'Longest time a request (headers and body) may take to arrive; a slower one is answered 408 and closed.',
    },
  ),
  headersTimeoutMs: settings.integer(
    'AGORA_HTTP_HEADERS_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    {
      default: 10_000,
      description: 'Longest time the headers may take (never more than the request timeout).',
    },
  ),
  idleTimeoutMs: settings.integer(
    'AGORA_HTTP_IDLE_TIMEOUT_MS',
    { min: 1_000, max: 3_600_000 },
    {
      default: 60_000,
      description:
        'A connection with no traffic either way for this long is closed (live streams send a comment every 15 s).',
    },
  ),
  keepAliveTimeoutMs: settings.integer(
    'AGORA_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    {
      default: 5_000,
      description: 'How long a kept-alive connection may wait for its next request.',
    },
  ),
  drainMs: settings.integer(
    'AGORA_HTTP_DRAIN_MS',
    { min: 0, max: 60_000 },
    {
      default: 2_000,
      description:
        'At a stop, longest time the server goes on answering (each answer closing its connection) before it closes; it closes sooner once no request has come for 100 ms. 0: close at once.',
    },
  ),
  maxConnections: settings.integer(
    'AGORA_HTTP_MAX_CONNECTIONS',
    { min: 1, max: 1_000_000 },
    {
      default: 2_048,
      description: 'Most connections open at once on one HTTP port; more are closed at once.',
    },
  ),
  maxConnectionsPerAddress: settings.integer(
    'AGORA_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    { min: 0, max: 1_000_000 },
    {
      default: 0,
      description:
        'Most from one client address (0: no such cap, as behind a proxy where every client shares an address).',
    },
  ),
  liveMaxClients: settings.integer(
    'AGORA_LIVE_MAX_CLIENTS',
    { min: 1, max: 1_000_000 },
    {
      default: 1_000,
      description:
        'Most browsers one live stream (SSE) serves at once; one more is told to retry in a few seconds.',
    },
  ),
  liveMaxStreamMs: settings.integer(
    'AGORA_LIVE_MAX_STREAM_MS',
    { min: 1_000, max: 86_400_000 },
    {
      default: 600_000,
      description: 'A live stream is ended after this long; the page reconnects by itself.',
    },
  ),
};

export type HttpLimits = ConfigOf<typeof httpLimitSettings>;

export function loadHttpLimits(env: Env = process.env): HttpLimits {
  return loadConfig(httpLimitSettings, env);
}

/** The defaults, for servers built outside a service (tests). */
export const defaultHttpLimits: HttpLimits = loadHttpLimits({});
