/**
 * The vote page: two buttons, the instance that served it, the visitor's current choice, and
 * why a vote was refused when it was. Plain HTML with a form, so it works without JavaScript.
 */
import { escapeHtml, type Labels } from './labels.js';
import type { VoteOption } from './protocol.js';

export interface VotePageView {
  labels: Labels;
  /** Which instance answered (the seed shows the container id). */
  instance: string;
  choice?: VoteOption;
  /** A refusal to show above the buttons. */
  problem?: string;
}

export function renderVotePage(view: VotePageView): string {
  const { labels, instance, choice, problem } = view;
  const button = (option: VoteOption) =>
    `<button name="vote" value="${option}"${choice === option ? ' class="chosen" aria-pressed="true"' : ''}>` +
    `${escapeHtml(labels[option])}${choice === option ? ' ✓' : ''}</button>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(labels.a)} vs ${escapeHtml(labels.b)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; text-align: center; }
  form { display: flex; gap: 1rem; justify-content: center; }
  button { font-size: 1.5rem; padding: 1rem 2rem; border-radius: .5rem; border: 2px solid #345; background: #fff; cursor: pointer; }
  button.chosen { background: #345; color: #fff; }
  .problem { color: #a00; }
  footer { margin-top: 2rem; color: #666; font-size: .9rem; }
</style>
</head>
<body>
<h1>${escapeHtml(labels.a)} vs ${escapeHtml(labels.b)}!</h1>
${problem === undefined ? '' : `<p class="problem" role="alert">${escapeHtml(problem)}</p>`}
<form method="post" action="/">${button('a')}${button('b')}</form>
<p>${choice === undefined ? 'You have not voted yet. You can change your vote at any time.' : `You voted for ${escapeHtml(labels[choice])}. Vote again to change it.`}</p>
<footer>Processed by instance ${escapeHtml(instance)}</footer>
</body>
</html>
`;
}
