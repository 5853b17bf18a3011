/**
 * The frame the vote and result pages share: colours of the two options, the top bar with the
 * links between the pages and the language switch, and a layout that holds at phone width.
 */
import { faviconLink } from '../platform/http/favicon.js';
import { type Language, languageSwitch } from '../platform/http/language.js';
import { escapeHtml } from './labels.js';

/** Option a and b, as on the buttons, the panels and the bar. */
export const optionColors = { a: '#2563eb', b: '#e11d48' } as const;

export interface PageFrame {
  language: Language;
  title: string;
  /** The page's own heading. */
  heading: string;
  /** The other page: `{ href, text }`. */
  link: { href: string; text: string };
  body: string;
  footer?: string;
  /** The page's `<script src>` element (`addScript`); pages have no inline script. */
  script?: string;
  /** The page's stylesheet `<link>` (`addStylesheet` of `layoutStyle` plus the page's own). */
  stylesheet: string;
}

/** The rules every page of the two shares; each page's stylesheet starts with them. */
export const layoutStyle = `
  :root { --a: ${optionColors.a}; --b: ${optionColors.b}; --ink: #111827; --muted: #6b7280;
    --line: #e5e7eb; --bg: #f3f4f6; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    background: var(--bg); color: var(--ink); line-height: 1.4; }
  .top { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.25rem;
    background: #fff; border-bottom: 1px solid var(--line); }
  .brand { font-weight: 700; letter-spacing: .02em; margin-right: auto; }
  .brand span { color: var(--a); } .brand span + span { color: var(--b); }
  .top a { color: var(--ink); text-decoration: none; font-weight: 600; }
  .top a:hover, .top a:focus-visible { text-decoration: underline; }
  .lang { border: 1px solid var(--line); border-radius: 999px; padding: .2rem .7rem;
    font-size: .9rem; }
  main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
  h1 { font-size: clamp(1.75rem, 6vw, 2.75rem); text-align: center; margin: .25rem 0 .5rem; }
  .lead { text-align: center; color: var(--muted); margin: 0 0 2rem; }
  .note { text-align: center; margin: 1.5rem 0 .25rem; font-size: 1.05rem; }
  .small { text-align: center; color: var(--muted); font-size: .9rem; margin: .25rem 0; }
  .cta { display: block; width: fit-content; margin: 1.75rem auto 0; padding: .8rem 1.4rem;
    border-radius: .75rem; background: var(--ink); color: #fff; text-decoration: none;
    font-weight: 600; }
  .cta:hover, .cta:focus-visible { background: #374151; }
  footer { text-align: center; color: var(--muted); font-size: .85rem; padding: 0 1rem 2rem; }
  @media (max-width: 480px) {
    .top { padding: .6rem .9rem; gap: .75rem; }
    main { padding: 1.25rem .9rem 2rem; }
  }
`;

export function renderPage(frame: PageFrame): string {
  return `<!doctype html>
<html lang="${frame.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(frame.title)}</title>
${faviconLink}
${frame.stylesheet}
</head>
<body>
<header class="top">
<div class="brand">Agora <span>●</span><span>●</span></div>
<a href="${escapeHtml(frame.link.href)}">${escapeHtml(frame.link.text)}</a>
${languageSwitch(frame.language)}
</header>
<main>
<h1>${escapeHtml(frame.heading)}</h1>
${frame.body}
</main>
${frame.footer === undefined ? '' : `<footer>${escapeHtml(frame.footer)}</footer>`}
${frame.script ?? ''}
</body>
</html>
`;
}
