/**
 * The result page: the two options as coloured panels over a split bar, moved live by an
 * EventSource on `/api/stream` (it reconnects by itself; the first event after a reconnect is
 * the full tally). With no votes it says so instead of showing 50% / 50%.
 */
import type { Language } from '../platform/http/language.js';
import { escapeHtml } from './labels.js';
import { renderPage } from './page-layout.js';
import { pageText } from './page-text.js';
import type { Results } from './results.js';

export interface ResultPageView {
  results: Results;
  language: Language;
  /** Where the vote page is, for the link to it. */
  voteHref: string;
  /** The `<link>` of the result stylesheet (`layoutStyle` + `resultStyle`). */
  stylesheet: string;
  /** The `<script>` of `resultScript` (`addScript`). */
  script: string;
}

/** The result page's own rules, after `layoutStyle` in its stylesheet. */
export const resultStyle = `
  .panels { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  .panel { border-radius: 1.25rem; color: #fff; padding: 1.25rem 1rem; text-align: center;
    box-shadow: 0 6px 18px rgb(0 0 0 / .12); min-width: 0; }
  .panel.a { background: var(--a); } .panel.b { background: var(--b); }
  .panel h2 { margin: 0; font-size: clamp(1.1rem, 4.5vw, 1.6rem); overflow-wrap: anywhere; }
  .percent { font-size: clamp(2rem, 10vw, 4.5rem); font-weight: 800; margin: .25rem 0 0;
    font-variant-numeric: tabular-nums; line-height: 1.1; }
  .votes { margin: .25rem 0 0; opacity: .9; font-variant-numeric: tabular-nums; }
  .bar { display: flex; height: 1.25rem; border-radius: 999px; overflow: hidden;
    background: var(--line); margin: 1.5rem 0 0; }
  .bar div { transition: width .6s ease; }
  .bar .a { background: var(--a); } .bar .b { background: var(--b); }
  #total { text-align: center; font-size: 1.25rem; font-weight: 600; margin: 1rem 0 .25rem; }
  #live { text-align: center; color: var(--muted); font-size: .9rem; margin: 0; }
  #live::before { content: ""; display: inline-block; width: .55rem; height: .55rem;
    border-radius: 50%; background: #9ca3af; margin-right: .4rem; vertical-align: .05rem; }
  #live.on::before { background: #16a34a; }
  .empty .percent { opacity: .6; }
  @media (max-width: 480px) { .panels { gap: .75rem; } .panel { padding: 1rem .6rem; } }
`;

export function renderResultPage(view: ResultPageView): string {
  const { results, language } = view;
  const text = pageText[language];
  const empty = results.total === 0;
  const share = (percent: number) => (empty ? '–' : `${percent}%`);
  const panels = results.options
    .map(
      ({ option, label, votes, percent }) =>
        `<section class="panel ${option}" data-option="${option}"><h2>${escapeHtml(label)}</h2>` +
        `<p class="percent">${share(percent)}</p>` +
        `<p class="votes">${escapeHtml(text.votes(votes))}</p></section>`,
    )
    .join('');
  const bar = results.options
    .map(
      ({ option, percent }) =>
        `<div class="${option}" data-bar="${option}" style="width:${empty ? 0 : percent}%"></div>`,
    )
    .join('');
  const barLabel = empty
    ? text.noVotesYet
    : results.options.map((o) => `${o.label} ${o.percent}%`).join(', ');
  // Only the words the script needs, for this page's language, in the board's data-words.
  const words = {
    noVotesYet: text.noVotesYet,
    vote: text.votes(1).replace('1', '{n}'),
    votes: text.votes(2).replace('2', '{n}'),
    live: text.live,
    reconnecting: text.reconnecting,
  };
  return renderPage({
    language,
    title: `${text.resultsTitle}: ${results.options.map((o) => o.label).join(' vs ')}`,
    heading: text.resultsTitle,
    link: { href: view.voteHref, text: text.voteTitle },
    body:
      `<div id="board" class="${empty ? 'empty' : ''}" ` +
      `data-words="${escapeHtml(JSON.stringify(words))}">` +
      `<div class="panels">${panels}</div>` +
      `<div class="bar" role="img" aria-label="${escapeHtml(barLabel)}">${bar}</div></div>` +
      `<p id="total">${escapeHtml(empty ? text.noVotesYet : text.votes(results.total))}</p>` +
      `<p id="live">${escapeHtml(text.connecting)}</p>` +
      `<a class="cta" href="${escapeHtml(view.voteHref)}">${escapeHtml(text.goVote)} →</a>`,
    script: view.script,
    stylesheet: view.stylesheet,
  });
}

/**
 * Moves the page live: the words it needs come from the board's `data-words`, the number format
 * from the page's language, so one file serves every language (and no page has an inline script).
 */
export const resultScript = `
const board = document.getElementById('board');
const words = JSON.parse(board.dataset.words);
const language = document.documentElement.lang;
const count = (n) => (n === 1 ? words.vote : words.votes).replace('{n}', n.toLocaleString(language));
const live = document.getElementById('live');
const stream = new EventSource('/api/stream');
stream.addEventListener('results', (event) => {
  const results = JSON.parse(event.data);
  const empty = results.total === 0;
  board.className = empty ? 'empty' : '';
  for (const { option, votes, percent } of results.options) {
    const panel = document.querySelector('[data-option="' + option + '"]');
    panel.querySelector('.percent').textContent = empty ? '–' : percent + '%';
    panel.querySelector('.votes').textContent = count(votes);
    document.querySelector('[data-bar="' + option + '"]').style.width = (empty ? 0 : percent) + '%';
  }
  document.getElementById('total').textContent = empty ? words.noVotesYet : count(results.total);
  live.textContent = words.live;
  live.className = 'on';
});
stream.onerror = () => { live.textContent = words.reconnecting; live.className = ''; };
`;
