/** The console's settings: where it listens, its action token, and how often it looks. */
import { type ConfigOf, type Env, loadConfig, settings } from '../platform/config.js';

export const consoleSettings = {
  port: settings.port('AGORA_CONSOLE_PORT', {
    default: 7070,
    description: 'Port of the console `agora up` serves (its page, JSON and SSE).',
  }),
  host: settings.string('AGORA_CONSOLE_HOST', {
    default: '127.0.0.1',
    description:
      'Address the console binds; loopback by default, since its actions can kill processes.',
  }),
  token: settings.string('AGORA_CONSOLE_TOKEN', {
    minLength: 16,
    description:
      'The token actions need (Authorization: Bearer); unset, a random one is made and printed at start.',
  }),
  intervalMs: settings.integer(
    'AGORA_CONSOLE_INTERVAL_MS',
    { min: 200, max: 60_000 },
    { default: 1_000, description: "How often the console reads every process's figures." },
  ),
  enabled: settings.boolean('AGORA_CONSOLE', {
    default: true,
    description: 'false: `agora up` serves no console.',
  }),
};

export type ConsoleConfig = ConfigOf<typeof consoleSettings>;

export function loadConsoleConfig(env: Env): ConsoleConfig {
  return loadConfig(consoleSettings, env);
}
