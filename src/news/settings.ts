/**
 * Settings of the news services. Intervals are settings so tests can shorten them; the node's
 * heartbeat must stay well under the agent's NEWS_NODE_DEAD_AFTER_MS.
 */
import { settings } from '../platform/config.js';

export const sharedSettings = {
  secret: settings.string('AGORA_NEWS_SECRET', {
    secret: true,
    description:
      'Signs session tokens; the same on every agent and node. Unset: one is generated and kept in Postgres.',
  }),
  idleTimeoutMs: settings.integer(
    'NEWS_IDLE_TIMEOUT_MS',
    { min: 50, max: 600_000 },
    { default: 5_000, description: 'How long a connection may stay silent before it is closed.' },
  ),
};

export const agentSettings = {
  ...sharedSettings,
  tokenTtlSeconds: settings.integer(
    'NEWS_TOKEN_TTL_SECONDS',
    { min: 1, max: 30 * 24 * 3600 },
    { default: 12 * 3600, description: 'How long a session token is valid.' },
  ),
  healthCheckMs: settings.integer(
    'NEWS_HEALTH_CHECK_MS',
    { min: 50, max: 600_000 },
    { default: 1_000, description: 'How often the agent pings every node and rebalances areas.' },
  ),
  deadAfterMs: settings.integer(
    'NEWS_NODE_DEAD_AFTER_MS',
    { min: 100, max: 3_600_000 },
    { default: 3_000, description: 'A node silent (no heartbeat) for this long is dead.' },
  ),
  replicas: settings.integer(
    'NEWS_AREA_REPLICAS',
    { min: 1, max: 16 },
    { default: 2, description: 'How many nodes serve each area, when that many are alive.' },
  ),
  adminName: settings.string('NEWS_ADMIN_NAME', {
    description: 'With NEWS_ADMIN_PASSWORD: an admin the agent creates at start (containers).',
  }),
  adminPassword: settings.string('NEWS_ADMIN_PASSWORD', {
    description: "The password of NEWS_ADMIN_NAME's admin (at least 8 characters, as at login).",
    minLength: 8,
    secret: true,
  }),
};

export const nodeSettings = {
  ...sharedSettings,
  advertise: settings.string('NEWS_NODE_ADVERTISE', {
    description:
      'host:port clients use to reach this node; default 127.0.0.1:<port> (set it in containers).',
  }),
  heartbeatMs: settings.integer(
    'NEWS_HEARTBEAT_MS',
    { min: 20, max: 600_000 },
    { default: 1_000, description: 'How often a node tells Postgres it is alive.' },
  ),
};
