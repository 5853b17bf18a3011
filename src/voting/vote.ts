/**
 * The vote service (seeds 000/001, part 4): a page with two options; `POST /` appends the
 * visitor's vote to the `votes` stream and answers 2xx only once it is there. One vote per
 * voter (a signed `voter_id` cookie); voting again changes it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import formbody from '@fastify/formbody';
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { settings } from '../platform/config.js';
import { BrokerUnavailableError } from '../platform/errors.js';
import { describeValidationIssue, type ValidationIssue } from '../platform/http/error-reply.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { labelSettings, labelsOf } from './labels.js';
import { isVoteOption, voteEntry, votesStream, type VoteOption } from './protocol.js';
import { renderVotePage } from './vote-page.js';
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
const formAnswer = Type.Unknown({ description: 'The page again, for a browser form post.' });
const developmentSecret = 'agora-development-secret-change-me-in-production';
const htmlType = 'text/html; charset=utf-8';

export const voteService = defineService({
  name: 'vote',
  system: 'voting',
  description: 'Vote page; queues each vote on the votes stream',
  defaultPort: 8080,
  // Stateless per request (the voter cookie is signed, the vote goes to Redis): replicas share 8080.
  scaling: 'shared-port',
  needs: ['broker'],
  settings: {
    ...labelSettings,
    cookieSecret: settings.string('AGORA_VOTE_SECRET', {
      default: developmentSecret,
      description: 'Signs voter_id cookies; every vote replica needs the same one.',
    }),
  },

  async start(ctx) {
    const labels = labelsOf(ctx.config);
    const instance = `${hostname()}:${process.pid}`;
    if (ctx.config.cookieSecret === developmentSecret) {
      ctx.logger.warn('AGORA_VOTE_SECRET is unset: voter cookies are signed with a public key');
    }

    const cookies = new VoterCookies(ctx.config.cookieSecret);
    // The page without a refusal depends only on the choice: rendered and encoded once.
    const pages = {
      none: Buffer.from(renderVotePage({ labels, instance })),
      a: Buffer.from(renderVotePage({ labels, instance, choice: 'a' })),
      b: Buffer.from(renderVotePage({ labels, instance, choice: 'b' })),
    };

    const app = await createHttpServer(ctx, {
      bodyLimit: 1024,
      title: 'Agora vote',
      description: 'The vote page of seeds 000/001, part 4; votes go to the `votes` stream.',
    });
    await app.register(formbody);

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
    ) {
      if (isFormPost(request)) {
        const page = renderVotePage({
          labels,
          instance,
          choice: currentChoice(request),
          problem: message,
        });
        return reply.status(status).type(htmlType).send(page);
      }
      return reply.status(status).send({ error: { code, message } });
    }

    app.get(
      '/',
      { schema: { summary: 'The vote page', produces: ['text/html'] } },
      (request, reply) => reply.type(htmlType).send(pages[currentChoice(request) ?? 'none']),
    );

    app.post(
      '/',
      {
        schema: {
          summary: 'Cast or change your vote (a form post gets the page back, JSON gets 202)',
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
            issue === undefined
              ? 'The vote is malformed.'
              : describeValidationIssue(context, issue);
          return refuse(request, reply, 400, 'invalid_request', message);
        }
        const { vote } = request.body;
        if (!isVoteOption(vote)) {
          return refuse(
            request,
            reply,
            400,
            'unknown_option',
            `"${vote}" is not an option: vote "a" for ${labels.a} or "b" for ${labels.b}.`,
          );
        }
        const voter = cookies.voterOf(readCookies(request.headers.cookie).voterId, randomUUID);
        if ('forged' in voter) {
          return refuse(
            request,
            reply,
            400,
            'invalid_cookie',
            'Your voter_id cookie was not issued by this site. Clear the cookie and vote again.',
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
            'Your vote was not recorded: the vote queue is unreachable. Please try again in a moment.',
          );
        }

        reply.header(
          'set-cookie',
          voter.isNew
            ? [cookies.voterLine(voter.id), cookies.choiceLine(vote)]
            : cookies.choiceLine(vote),
        );
        if (isFormPost(request)) return reply.type(htmlType).send(pages[vote]);
        return reply.status(202).send({ voter_id: voter.id, vote, entry_id: entryId });
      },
    );

    const url = await listen(app, ctx.host, ctx.port);
    return { url, stop: () => app.close() };
  },
});

function isFormPost(request: FastifyRequest): boolean {
  return request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
}
