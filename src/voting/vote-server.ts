/**
 * The vote service's server: the page with two options, and `POST /`, which appends the
 * visitor's vote to the `votes` stream and answers 2xx only once it is there. One vote per voter
 * (a signed `voter_id` cookie); voting again changes it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { BrokerUnavailableError } from '../platform/errors.js';
import { addStylesheet } from '../platform/http/assets.js';
import { describeValidationIssue, type ValidationIssue } from '../platform/http/error-reply.js';
import { addFavicon } from '../platform/http/favicon.js';
import { chooseLanguage, type Language } from '../platform/http/language.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import type { ContextOf, ServiceHandle } from '../platform/service.js';
import { labelsOf } from './labels.js';
import { layoutStyle, optionColors } from './page-layout.js';
import { pageHref } from './page-links.js';
import { pageText } from './page-text.js';
import { isVoteOption, voteEntry, type VoteOption, votesStream } from './protocol.js';
import type { voteService } from './vote.js';
import { renderVotePage, voteStyle } from './vote-page.js';
import { checkVoteSecret } from './vote-secret.js';
import { readCookies, VoterCookies } from './voter-cookies.js';

const voteBody = Type.Object(
  { vote: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
const voteAccepted = Type.Object({
  voter_id: Type.String(),
  vote: Type.Union([Type.Literal('a'), Type.Literal('b')]),
  entry_id: Type.String({ description: 'The entry of the votes stream that holds the vote.' }),
});
const formAnswer = Type.Unknown({
  description: 'The page again, for a form post without text/html in Accept.',
});
const htmlType = 'text/html; charset=utf-8';
/** The result service's port, for the link to it when no public URL is set. */
const resultDefaultPort = 8081;
/**
 * Rendered pages kept: one per language, choice and result link, the link following the Host a
 * browser used. Bounded, since a client chooses its Host header: past this, pages are rendered
 * per request, as correct as before, only slower.
 */
const maxCachedPages = 64;

export async function startVote(ctx: ContextOf<typeof voteService>): Promise<ServiceHandle> {
  const labels = labelsOf(ctx.config);
  const instance = `${hostname()}:${process.pid}`;
  const secretWarning = checkVoteSecret(ctx.config.cookieSecret, ctx.config.development);
  if (secretWarning !== undefined) ctx.logger.warn(secretWarning);

  const cookies = new VoterCookies(ctx.config.cookieSecret);
  // A page without a problem depends only on its key: rendering it (escaping the labels, 4 KB
  // of HTML) was a fifth of a form post's CPU in a profile of bench/voting (a). Kept as bytes,
  // so a post does not encode the same 1 KB of UTF-8 again for the socket.
  const pages = new Map<string, Buffer>();

  const app = await createHttpServer(ctx, {
    bodyLimit: 1024,
    title: 'Agora vote',
    description: 'The vote page of seeds 000/001, part 4; votes go to the `votes` stream.',
  });
  await app.register(formbody);
  addFavicon(app, { color: optionColors.a, glyph: 'V' });
  const stylesheet = addStylesheet(app, 'vote', layoutStyle + voteStyle);

  /** The page in the request's language, the `lang` cookie set when `?lang=` chose it. */
  function sendPage(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    page: { choice?: VoteOption; problem?: (language: Language) => string },
  ) {
    const { language, setCookie } = chooseLanguage(request.query, request.headers);
    if (setCookie !== undefined) reply.header('set-cookie', setCookie);
    // The result link follows the Host header alone (pageHref), so the raw header keys it.
    const key =
      page.problem === undefined
        ? `${language} ${page.choice ?? '-'} ${request.protocol} ${request.headers.host ?? ''}`
        : '';
    let html = pages.get(key);
    if (html === undefined) {
      html = Buffer.from(
        renderVotePage({
          labels,
          language,
          instance,
          resultHref: pageHref(ctx.config.resultPublicUrl, request, resultDefaultPort),
          choice: page.choice,
          problem: page.problem?.(language),
          stylesheet,
        }),
      );
      if (key !== '' && pages.size < maxCachedPages) pages.set(key, html);
    }
    return reply.status(status).type(htmlType).send(html);
  }

  function currentChoice(request: FastifyRequest): VoteOption | undefined {
    const { vote } = readCookies(request.headers.cookie);
    return isVoteOption(vote) ? vote : undefined;
  }

  /** Browsers posting the form get the page back with the reason; API clients get JSON. */
  function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
    inPage: (language: Language) => string = () => message,
  ) {
    if (isFormPost(request)) {
      return sendPage(request, reply, status, {
        choice: currentChoice(request),
        problem: (language) => (language === 'en' ? message : inPage(language)),
      });
    }
    return reply.status(status).send({ error: { code, message } });
  }

  app.get(
    '/',
    { schema: { summary: 'The vote page', produces: ['text/html'] } },
    (request, reply) => sendPage(request, reply, 200, { choice: currentChoice(request) }),
  );

  app.post(
    '/',
    {
      schema: {
        summary:
          'Cast or change your vote: a browser is redirected (303) to the page, JSON gets 202',
        body: voteBody,
        response: { 200: formAnswer, 202: voteAccepted },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError !== undefined) {
        const [issue] = request.validationError.validation as ValidationIssue[];
        const context = request.validationError.validationContext;
        const message =
          issue === undefined ? 'The vote is malformed.' : describeValidationIssue(context, issue);
        return refuse(
          request,
          reply,
          400,
          'invalid_request',
          message,
          (language) => pageText[language].malformed,
        );
      }
      const { vote } = request.body;
      if (!isVoteOption(vote)) {
        return refuse(
          request,
          reply,
          400,
          'unknown_option',
          pageText.en.unknownOption(vote, labels.a, labels.b),
          (language) => pageText[language].unknownOption(vote, labels.a, labels.b),
        );
      }
      const voter = cookies.voterOf(readCookies(request.headers.cookie).voterId, randomUUID);
      if ('forged' in voter) {
        return refuse(
          request,
          reply,
          400,
          'invalid_cookie',
          pageText.en.forgedCookie,
          (language) => pageText[language].forgedCookie,
        );
      }

      let entryId: string;
      try {
        entryId = await ctx.broker.append(votesStream, voteEntry(voter.id, vote, Date.now()));
      } catch (error) {
        if (!(error instanceof BrokerUnavailableError)) throw error;
        return refuse(
          request,
          reply,
          503,
          'broker_unavailable',
          pageText.en.queueDown,
          (language) => pageText[language].queueDown,
        );
      }

      reply.header(
        'set-cookie',
        voter.isNew
          ? [cookies.voterLine(voter.id), cookies.choiceLine(vote)]
          : cookies.choiceLine(vote),
      );
      // POST-redirect-GET for browsers, so a reload does not post again; other form posts
      // (ApacheBench in the seed's data script) keep a 2xx with the page.
      if (isFormPost(request) && acceptsHtml(request)) return reply.redirect('/', 303);
      if (isFormPost(request)) {
        return sendPage(request, reply, 200, { choice: vote });
      }
      return reply.status(202).send({ voter_id: voter.id, vote, entry_id: entryId });
    },
  );

  const url = await listen(app, ctx.host, ctx.port);
  return { url, stop: () => app.close() };
}

/** A browser navigating (its Accept names text/html), not a script posting the form. */
function acceptsHtml(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('text/html') === true;
}

function isFormPost(request: FastifyRequest): boolean {
  return request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
}
