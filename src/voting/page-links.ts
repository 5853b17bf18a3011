/**
 * Where the vote and result pages link to each other. They are two services on two ports, so
 * a page names the other by its public URL when one is set, otherwise by the host the browser
 * used with the other service's port.
 */
import type { FastifyRequest } from 'fastify';

import { settings } from '../platform/config.js';

export const pageLinkSettings = {
  votePublicUrl: settings.url('AGORA_VOTE_PUBLIC_URL', ['http:', 'https:'], {
    description: 'The vote page as browsers reach it, for the result page’s link.',
  }),
  resultPublicUrl: settings.url('AGORA_RESULT_PUBLIC_URL', ['http:', 'https:'], {
    description: 'The result page as browsers reach it, for the vote page’s link.',
  }),
};

/** The other page's address: `publicUrl`, or the request's host name on `port`. */
export function pageHref(
  publicUrl: string | undefined,
  request: FastifyRequest,
  port: number,
): string {
  if (publicUrl !== undefined) return publicUrl;
  const host =
    request.hostname.includes(':') && !request.hostname.startsWith('[')
      ? `[${request.hostname}]`
      : request.hostname;
  return `${request.protocol}://${host}:${port}/`;
}
