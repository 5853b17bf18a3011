/**
 * `agora load http`: the generic profile, one GET (or HEAD) of `--url` per operation, for any
 * HTTP service (the counter, a health endpoint). It has nothing to verify.
 */
import { Option } from 'commander';
import { request } from 'undici';

import type { LoadProfile } from './command.js';
import { errorReason, type Scenario } from './scenario.js';

export function httpScenario(url: URL, method: 'GET' | 'HEAD' = 'GET'): Scenario<null> {
  const route = `${method} ${url.pathname}`;
  return {
    name: 'http',
    routes: [route],
    createUser: () => null,
    async request(_user, context) {
      try {
        const response = await request(url, {
          method,
          dispatcher: context.http,
          signal: context.signal,
        });
        await response.body.dump();
        const ok = response.statusCode >= 200 && response.statusCode < 400;
        return { route, ok, status: response.statusCode };
      } catch (error) {
        return { route, ok: false, error: errorReason(error) };
      }
    },
  };
}

export const httpLoadProfile: LoadProfile = {
  system: 'http',
  description: 'GET one URL over and over (any HTTP service, e.g. the counter); nothing to verify.',
  defaultUrl: (env) => env.AGORA_COUNTER_URL ?? 'http://127.0.0.1:5000/',
  addOptions(command) {
    command.addOption(
      new Option('--method <method>', 'HTTP method').choices(['GET', 'HEAD']).default('GET'),
    );
  },
  createScenario(run, own) {
    return httpScenario(run.url, own.method === 'HEAD' ? 'HEAD' : 'GET');
  },
};
