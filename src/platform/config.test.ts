import { describe, expect, it } from 'vitest';

import { loadConfig, settings } from './config.js';
import { ConfigError } from './errors.js';

const spec = {
  port: settings.port('PORT', { default: 5000, aliases: ['BIND_PORT'] }),
  redisUrl: settings.url('REDIS_URL', ['redis:']),
  level: settings.oneOf('LOG_LEVEL', ['info', 'debug'], { default: 'info' }),
  batch: settings.integer('BATCH', { min: 1, max: 100 }, { default: 10 }),
  verbose: settings.boolean('VERBOSE', { default: false }),
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(spec, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses defaults when nothing is set and leaves optional settings undefined', () => {
    expect(loadConfig(spec, {})).toEqual({
      port: 5000,
      redisUrl: undefined,
      level: 'info',
      batch: 10,
      verbose: false,
    });
  });

  it("reads the seed's alias when the main variable is unset, and prefers the main one", () => {
    expect(loadConfig(spec, { BIND_PORT: '5050' }).port).toBe(5050);
    expect(loadConfig(spec, { PORT: '6060', BIND_PORT: '5050' }).port).toBe(6060);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be a port number from 1 to 65535, got "abc"'],
    [{ BIND_PORT: '70000' }, 'BIND_PORT must be a port number from 1 to 65535, got "70000"'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL must be a URL starting with redis://, got "http://x"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of info, debug, got "loud"'],
    [{ BATCH: '1.5' }, 'BATCH must be a whole number from 1 to 100, got "1.5"'],
    [{ VERBOSE: 'maybe' }, 'VERBOSE must be true or false, got "maybe"'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    const error = configError(env);
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
  });

  it('never echoes a secret setting, whatever is wrong with it', () => {
    const secrets = { password: settings.string('PASSWORD', { minLength: 8, secret: true }) };
    const error = (() => {
      try {
        loadConfig(secrets, { PASSWORD: 'hunter2' });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message).toBe(
      'PASSWORD must be a string of at least 8 characters, got a value of 7 characters (not shown)',
    );
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    ['rediz://:s3cret@cache:6380', 'rediz://***@cache:6380'],
    ['ftp://app:pa/ss@db:5432/x', 'ftp://***@db:5432/x'],
    ['http://user:p@ss@db/x', 'http://***@db/x'],
  ])('masks the user and password of a refused URL: %s', (raw, masked) => {
    const error = configError({ REDIS_URL: raw });
    expect(error.message).toBe(
      `REDIS_URL must be a URL starting with redis://, got ${JSON.stringify(masked)}`,
    );
  });

  it('refuses a required setting that is unset', () => {
    const required = { secret: settings.string('SECRET', { required: true }) };
    expect(() => loadConfig(required, {})).toThrow(
      'SECRET is required: set it to a non-empty string',
    );
  });
});
