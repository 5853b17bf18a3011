/**
 * `GET /` of a service that is an API, not a page: the URL `agora up` lists for it, so a
 * newcomer who opens it learns where the routes and their documentation are instead of
 * meeting a 404. A favicon comes with it, since a browser asks for one.
 */
import { Type } from 'typebox';

import { addFavicon, type FaviconOptions } from './favicon.js';
import type { HttpServer } from './server.js';

export interface ApiIndex {
  service: string;
  description: string;
  /** Each route's path by name; `docs` is added. */
  links: Record<string, string>;
  icon: FaviconOptions;
}

const indexSchema = Type.Object({
  service: Type.String(),
  description: Type.String(),
  links: Type.Record(Type.String(), Type.String()),
});

export function addApiIndex(app: HttpServer, { service, description, links, icon }: ApiIndex) {
  addFavicon(app, icon);
  const answer = { service, description, links: { ...links, docs: '/docs' } };
  app.get(
    '/',
    {
      schema: {
        summary: 'Where the routes and their documentation are',
        response: { 200: indexSchema },
      },
    },
    () => answer,
  );
}
