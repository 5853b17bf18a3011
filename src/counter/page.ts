/**
 * The counter's page for browsers: the count large, what holds it (Redis, or the embedded
 * broker of `agora up`, which forgets the count at a restart), in English or Spanish.
 */
import { faviconLink } from '../platform/http/favicon.js';
import { type Language, languageSwitch } from '../platform/http/language.js';
import type { CounterBackend } from './hits.js';

export const counterColor = '#0f766e';

const text = {
  en: {
    title: 'Hit counter',
    seen: (hits: string) => `I have been seen ${hits} times.`,
    once: 'I have been seen once.',
    redis:
      'Counted in Redis (INCRBY on the key hits): the count survives restarts of this service.',
    memory:
      'Counted by the embedded broker of agora up: no Redis is configured (set REDIS_URL to use one).',
    reload: 'Reload to count another visit',
    json: 'As JSON',
  },
  es: {
    title: 'Contador de visitas',
    seen: (hits: string) => `Me han visto ${hits} veces.`,
    once: 'Me han visto una vez.',
    redis:
      'Contado en Redis (INCRBY sobre la clave hits): la cuenta sobrevive a los reinicios del servicio.',
    memory:
      'Contado por el broker embebido de agora up: no hay Redis configurado (define REDIS_URL para usar uno).',
    reload: 'Recarga para contar otra visita',
    json: 'En JSON',
  },
} as const;

/** The page's rules, served by `addStylesheet` (the page links them). */
export const counterStyle = `
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; flex-direction: column;
    font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    background: #f0fdfa; color: #134e4a; }
  .top { display: flex; justify-content: space-between; align-items: center;
    padding: .75rem 1.25rem; background: #fff; border-bottom: 1px solid #ccfbf1; }
  .top strong { font-size: 1.05rem; }
  .lang { color: inherit; text-decoration: none; font-weight: 600; border: 1px solid #99f6e4;
    border-radius: 999px; padding: .2rem .7rem; font-size: .9rem; }
  main { flex: 1; display: flex; flex-direction: column; align-items: center;
    justify-content: center; text-align: center; padding: 2rem 1.25rem; }
  .count { font-size: clamp(4rem, 22vw, 9rem); font-weight: 800; line-height: 1; margin: 0;
    color: ${counterColor}; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
  .seen { font-size: clamp(1.2rem, 5vw, 1.6rem); margin: 1rem 0 .5rem; }
  .backend { max-width: 34rem; color: #3f6f6a; margin: .5rem 0 2rem; }
  .backend b { color: #134e4a; }
  .actions { display: flex; flex-wrap: wrap; gap: .75rem; justify-content: center; }
  .actions a { padding: .75rem 1.25rem; border-radius: .75rem; text-decoration: none;
    font-weight: 600; }
  .reload { background: ${counterColor}; color: #fff; }
  .json { border: 1px solid #99f6e4; color: #134e4a; background: #fff; }
`;

/** `stylesheet`: the `<link>` that `addStylesheet(app, 'counter', counterStyle)` returned. */
export function renderCounterPage(
  hits: number,
  backend: CounterBackend,
  language: Language,
  stylesheet: string,
) {
  const words = text[language];
  const count = hits.toLocaleString(language);
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${words.title}: ${count}</title>
${faviconLink}
${stylesheet}
</head>
<body>
<header class="top"><strong>Agora · ${words.title}</strong>${languageSwitch(language)}</header>
<main>
<p class="count" id="hits">${count}</p>
<p class="seen">${hits === 1 ? words.once : words.seen(count)}</p>
<p class="backend" data-backend="${backend}">${words[backend]}</p>
<div class="actions"><a class="reload" href="/">${words.reload}</a><a class="json" href="/?format=json">${words.json}</a></div>
</main>
</body>
</html>
`;
}
