/**
 * The vote service as a process against real Redis: a vote is on the stream before the answer,
 * one voter keeps one id, and every malformed request is refused with nothing queued.
 */
import { request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBroker } from '../../src/platform/broker/redis.js';
import { votesStream } from '../../src/voting/protocol.js';
import { testRedisUrl, testVoteSecret, uniqueName } from '../support/backends.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

const prefix = `${uniqueName('vote')}:`;
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
let base: string;

beforeAll(async () => {
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'vote', '--port', String(port)], {
    env: {
      ...process.env,
      REDIS_URL: testRedisUrl,
      AGORA_REDIS_PREFIX: prefix,
      AGORA_VOTE_SECRET: testVoteSecret,
      OPTION_A: 'Tacos <3',
      LOG_LEVEL: 'warn',
    },
  });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 15_000 });
});

afterAll(async () => {
  await killAll();
  await broker.close();
});

const form = 'application/x-www-form-urlencoded';

async function post(body: string, contentType: string, cookie?: string) {
  return fetch(base, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(cookie === undefined ? {} : { cookie }) },
    body,
  });
}

describe('the vote service', () => {
  it('serves the page with both options, escaped, and the instance that served it', async () => {
    const page = await (await fetch(base)).text();
    expect(page).toContain('Tacos &lt;3 vs Dogs');
    expect(page).toMatch(/Processed by instance \S+:\d+/);
    expect(page).toContain('You have not voted yet');
  });

  it('sends security headers: no framing, nosniff, no referrer', async () => {
    const { headers } = await fetch(base);
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('queues a form vote before answering, sets a signed voter cookie and marks the choice', async () => {
    const before = await broker.streamLength(votesStream);
    const response = await post('vote=a', form);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You voted for Tacos &lt;3');
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('voter_id='))).toMatch(/HttpOnly/);
    expect(await broker.streamLength(votesStream)).toBe(before + 1);
  });

  it('answers a browser form post with a redirect to GET /, which shows the vote', async () => {
    const response = await fetch(base, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': form, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
      body: 'vote=b',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const page = await (await fetch(base, { headers: { cookie } })).text();
    expect(page).toContain('You voted for Dogs');
  });

  it('speaks Spanish to a browser that asks for it, with a switch back to English', async () => {
    const page = await (
      await fetch(base, { headers: { 'accept-language': 'es-ES,es;q=0.9' } })
    ).text();
    expect(page).toContain('<html lang="es">');
    expect(page).toContain('Aún no has votado');
    expect(page).toContain('href="?lang=en"');
    const english = await fetch(`${base}/?lang=en`, { headers: { 'accept-language': 'es' } });
    expect(english.headers.get('set-cookie')).toContain('lang=en');
    expect(await english.text()).toContain('You have not voted yet');
    expect((await fetch(`${base}/favicon.ico`)).status).toBe(200);
  });

  it('serves every language, choice and Host its own page, past the pages it keeps rendered', async () => {
    /** GET / with a Host header of our choosing (fetch does not let a caller set it). */
    const pageFor = (host: string, headers: Record<string, string> = {}) =>
      new Promise<string>((resolve, reject) => {
        const call = request(base, { headers: { host, ...headers } }, (answer) => {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => {
            body += chunk;
          });
          answer.on('end', () => {
            resolve(body);
          });
        });
        call.once('error', reject);
        call.end();
      });
    // More Hosts than the vote service keeps pages for (64): each still links to its own host.
    for (let n = 0; n < 80; n++) {
      expect(await pageFor(`host-${n}.example`)).toContain(`href="http://host-${n}.example:8081/"`);
    }
    // Pages kept for one language and choice never answer for another.
    for (let round = 0; round < 2; round++) {
      expect(await pageFor('same.example')).toContain('You have not voted yet');
      expect(await pageFor('same.example', { 'accept-language': 'es' })).toContain(
        'Aún no has votado',
      );
      const chosen = await pageFor('same.example', { cookie: 'vote=b' });
      expect(chosen).toContain('You voted for Dogs');
      expect(chosen).not.toContain('You have not voted yet');
    }
  });

  it('keeps one voter id across votes, so voting again changes the same vote', async () => {
    const first = await post('{"vote":"a"}', 'application/json');
    expect(first.status).toBe(202);
    const { voter_id: voterId } = (await first.json()) as { voter_id: string };
    const cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const second = await post('{"vote":"b"}', 'application/json', cookie);
    expect(await second.json()).toEqual({
      voter_id: voterId,
      vote: 'b',
      entry_id: expect.stringMatching(/^\d+-\d+$/) as unknown,
    });
  });

  it('gives a cookie-less client (ab, the seed-data script) a new voter each time', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const answer = (await (await post('{"vote":"a"}', 'application/json')).json()) as {
        voter_id: string;
      };
      ids.add(answer.voter_id);
    }
    expect(ids.size).toBe(3);
  });

  it.each([
    ['a missing vote (form)', '', form, undefined, 400, /missing field &quot;vote&quot;/],
    ['an unknown option (form)', 'vote=c', form, undefined, 400, /&quot;c&quot; is not an option/],
    ['a missing vote (JSON)', '{}', 'application/json', undefined, 400, /missing field \\"vote\\"/],
    [
      'an unknown option (JSON)',
      '{"vote":"c"}',
      'application/json',
      undefined,
      400,
      /unknown_option/,
    ],
    [
      'an unknown field',
      '{"vote":"a","admin":1}',
      'application/json',
      undefined,
      400,
      /unknown field/,
    ],
    ['malformed JSON', '{"vote":', 'application/json', undefined, 400, /malformed_json/],
    [
      'a vote in a list',
      '{"vote":["a"]}',
      'application/json',
      undefined,
      400,
      /must be a string\./,
    ],
    ['a repeated form field', 'vote=a&vote=b', form, undefined, 400, /must be a string\./],
    ['SQL in the vote', "vote=a'; DROP TABLE votes;--", form, undefined, 400, /is not an option/],
    [
      'a wrong content type',
      '<vote>a</vote>',
      'application/xml',
      undefined,
      415,
      /unsupported_media_type/,
    ],
    ['an oversized body', `vote=${'a'.repeat(5000)}`, form, undefined, 413, /payload_too_large/],
    [
      'a forged cookie',
      'vote=a',
      form,
      'voter_id=someone-else.forgedsignature',
      400,
      /not issued by this site/,
    ],
  ])('refuses %s and queues nothing', async (_case, body, type, cookie, status, text) => {
    const length = await broker.streamLength(votesStream);
    const response = await post(body, type, cookie);
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(text);
    expect(await broker.streamLength(votesStream)).toBe(length);
  });
});

describe('the vote secret outside development mode', () => {
  it.each([
    ['unset', undefined],
    ['the published development value', 'change-me-development-only'],
    ['short', 'hunter2-is-short'],
  ])('refuses to start when it is %s, without echoing it', async (_case, secret) => {
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: testRedisUrl, LOG_LEVEL: 'warn' };
    delete env.AGORA_DEV;
    delete env.AGORA_VOTE_SECRET;
    if (secret !== undefined) env.AGORA_VOTE_SECRET = secret;
    const port = await freePort();
    const vote = startProcess(process.execPath, [agoraCli, 'run', 'vote', '--port', String(port)], {
      env,
    });
    const exit = await vote.exited;
    expect(exit.code).not.toBe(0);
    expect(vote.stderr()).toMatch(/AGORA_VOTE_SECRET .*at least 32 characters/);
    if (secret !== undefined) expect(vote.output()).not.toContain(secret);
    // The vote service started with a strong secret still serves its voters.
    expect((await fetch(base)).status).toBe(200);
  });
});
