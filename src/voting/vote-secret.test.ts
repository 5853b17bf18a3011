/** The vote secret rule: a published or short secret stops the vote service outside AGORA_DEV. */
import { describe, expect, it } from 'vitest';

import { ConfigError } from '../platform/errors.js';
import { checkVoteSecret, developmentSecret, judgeVoteSecret } from './vote-secret.js';

const strong = 'f'.repeat(64);

describe('the vote secret', () => {
  it.each([
    [developmentSecret, 'published'],
    ['change-me-development-only', 'published'],
    ['test-secret', 'short'],
    ['x'.repeat(31), 'short'],
    ['x'.repeat(32), 'strong'],
    [strong, 'strong'],
  ])('judges %s as %s', (secret, verdict) => {
    expect(judgeVoteSecret(secret)).toBe(verdict);
  });

  it.each([developmentSecret, 'short-secret'])(
    'stops the service on %s outside development mode, without echoing it',
    (secret) => {
      let thrown: unknown;
      try {
        checkVoteSecret(secret, false);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const { message, variable } = thrown as ConfigError;
      expect(variable).toBe('AGORA_VOTE_SECRET');
      expect(message).not.toContain(secret);
      expect(message).not.toContain('\n');
      expect(message).toMatch(/AGORA_DEV=1/);
    },
  );

  it('lets a weak secret through in development mode with a warning, a strong one silently', () => {
    expect(checkVoteSecret(developmentSecret, true)).toMatch(/development mode/);
    expect(checkVoteSecret(strong, false)).toBeUndefined();
  });
});
