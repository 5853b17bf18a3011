/**
 * The vote page: the two options as large coloured buttons, the visitor's current choice, why
 * a vote was refused when it was, and a link to the live results. Plain HTML with a form, so
 * it works without JavaScript.
 */
import type { Language } from '../platform/http/language.js';
import { escapeHtml, type Labels } from './labels.js';
import { renderPage } from './page-layout.js';
import { pageText } from './page-text.js';
import type { VoteOption } from './protocol.js';

export interface VotePageView {
  labels: Labels;
  language: Language;
  /** Which instance answered (the seed shows the container id). */
  instance: string;
  /** Where the result page is, for the link to it. */
  resultHref: string;
  choice?: VoteOption;
  /** A refusal to show above the buttons. */
  problem?: string;
  /** The `<link>` of the vote stylesheet (`layoutStyle` + `voteStyle`). */
  stylesheet: string;
}

/** The vote page's own rules, after `layoutStyle` in its stylesheet. */
export const voteStyle = `
  .choices { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin: 0; }
  .choice { position: relative; min-height: 11rem; border: 0; border-radius: 1.25rem;
    color: #fff; font: inherit; font-size: clamp(1.5rem, 6vw, 2.5rem); font-weight: 700;
    cursor: pointer; box-shadow: 0 6px 18px rgb(0 0 0 / .12); overflow-wrap: anywhere;
    padding: 1rem; transition: transform .1s, box-shadow .1s, filter .1s; }
  .choice.a { background: var(--a); } .choice.b { background: var(--b); }
  .choice:hover { filter: brightness(1.08); transform: translateY(-2px); }
  .choice:focus-visible { outline: 4px solid var(--ink); outline-offset: 3px; }
  .choice.chosen { box-shadow: 0 0 0 5px #fff, 0 0 0 9px var(--ink); }
  .choice .mark { display: block; font-size: .9rem; font-weight: 600; margin-top: .5rem;
    text-transform: uppercase; letter-spacing: .08em; }
  .problem { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca;
    border-radius: .75rem; padding: .75rem 1rem; margin: 0 0 1.25rem; text-align: center; }
  @media (max-width: 480px) { .choices { gap: .75rem; } .choice { min-height: 8.5rem; } }
`;

export function renderVotePage(view: VotePageView): string {
  const { labels, language, instance, choice, problem } = view;
  const text = pageText[language];
  const button = (option: VoteOption) => {
    const chosen = choice === option;
    return (
      `<button class="choice ${option}${chosen ? ' chosen' : ''}" name="vote" value="${option}"` +
      `${chosen ? ' aria-pressed="true"' : ''}>${escapeHtml(labels[option])}` +
      `${chosen ? `<span class="mark">✓ ${escapeHtml(text.yourVote)}</span>` : ''}</button>`
    );
  };
  const status = choice === undefined ? text.notVoted : text.voted(labels[choice]);
  return renderPage({
    language,
    title: `${labels.a} vs ${labels.b}`,
    heading: `${labels.a} vs ${labels.b}!`,
    link: { href: view.resultHref, text: text.resultsTitle },
    body:
      `<p class="lead">${escapeHtml(text.question)}</p>` +
      (problem === undefined ? '' : `<p class="problem" role="alert">${escapeHtml(problem)}</p>`) +
      `<form class="choices" method="post" action="/">${button('a')}${button('b')}</form>` +
      `<p class="note">${escapeHtml(status)}</p>` +
      `<p class="small">${escapeHtml(text.oneVotePerBrowser)}</p>` +
      `<a class="cta" href="${escapeHtml(view.resultHref)}">${escapeHtml(text.seeResults)} →</a>`,
    footer: text.servedBy(instance),
    stylesheet: view.stylesheet,
  });
}
