/**
 * The rule for AGORA_VOTE_SECRET: whoever knows it can forge any voter's cookie, so outside
 * development mode (AGORA_DEV, on under `agora up`) a published or short one stops the service.
 */
import { ConfigError } from '../platform/errors.js';

/** The in-code default: public, so fit only for a machine where no one else votes. */
export const developmentSecret = 'agora-development-secret-change-me-in-production';

/** Values published in this repository (code, deployment files, docs): known to anyone. */
const publishedSecrets: ReadonlySet<string> = new Set([
  developmentSecret,
  'change-me-development-only',
  'development-only-vote-secret-public-in-the-repository', // deploy/k8s/overlays/dev
]);

/** As AGORA_NEWS_SECRET: shorter keys can be guessed offline from one signed cookie. */
export const minVoteSecretChars = 32;

export type SecretVerdict = 'strong' | 'published' | 'short';

export function judgeVoteSecret(secret: string): SecretVerdict {
  if (publishedSecrets.has(secret)) return 'published';
  return secret.length < minVoteSecretChars ? 'short' : 'strong';
}

/** The development warning's words for a weak secret, kept short: it prints at every start. */
const weakness = {
  published: 'is unset or public',
  short: `is under ${minVoteSecretChars} characters`,
} as const;

/**
 * Throws the one-line ConfigError that stops the service on a weak secret outside development
 * mode; returns the warning to log when development mode lets a weak one through.
 */
export function checkVoteSecret(secret: string, development: boolean): string | undefined {
  const verdict = judgeVoteSecret(secret);
  if (verdict === 'strong') return undefined;
  const what =
    verdict === 'published'
      ? 'is unset or a value published in the repository'
      : `has fewer than ${minVoteSecretChars} characters`;
  if (!development) {
    throw new ConfigError(
      'AGORA_VOTE_SECRET',
      `AGORA_VOTE_SECRET ${what}, so anyone could forge voter cookies: set it to a random value of ` +
        `at least ${minVoteSecretChars} characters, the same for every vote replica ` +
        '(openssl rand -hex 32), or set AGORA_DEV=1 on a development machine',
    );
  }
  return (
    `AGORA_VOTE_SECRET ${weakness[verdict]} (fine in development mode); ` +
    'before others vote: export AGORA_VOTE_SECRET=$(openssl rand -hex 32)'
  );
}
