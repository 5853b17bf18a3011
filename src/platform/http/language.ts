/**
 * Which language a page speaks: English or Spanish (the seeds' users read Spanish), one per
 * page. A `?lang=` link (the page's visible switch) wins and is remembered in a `lang` cookie;
 * then the cookie; then the browser's Accept-Language (RFC 9110 §12.5.4), by quality.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const languages = ['en', 'es'] as const;
export type Language = (typeof languages)[number];

export interface LanguageChoice {
  language: Language;
  /** A Set-Cookie line when `?lang=` chose it, so the next page keeps it. */
  setCookie?: string;
}

const isLanguage = (value: unknown): value is Language =>
  typeof value === 'string' && (languages as readonly string[]).includes(value);

export function chooseLanguage(query: unknown, headers: IncomingHttpHeaders): LanguageChoice {
  const asked = (query as { lang?: unknown } | undefined)?.lang;
  if (isLanguage(asked)) {
    return { language: asked, setCookie: `lang=${asked}; Path=/; Max-Age=31536000; SameSite=Lax` };
  }
  const cookie = /(?:^|;\s*)lang=([a-z]{2})(?:;|$)/.exec(headers.cookie ?? '')?.[1];
  if (isLanguage(cookie)) return { language: cookie };
  return { language: fromAcceptLanguage(headers['accept-language']) };
}

/** The best of `languages` in an Accept-Language header; English when none is acceptable. */
export function fromAcceptLanguage(header: string | undefined): Language {
  let best: { language: Language; quality: number } | undefined;
  for (const part of (header ?? '').split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const primary = range.split('-')[0];
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
    const quality = q === undefined ? 1 : Number(q);
    if (!isLanguage(primary) || !(quality > 0)) continue;
    if (best === undefined || quality > best.quality) best = { language: primary, quality };
  }
  return best?.language ?? 'en';
}

/** The switch every page shows: a link to the same page in the other language. */
export function languageSwitch(current: Language): string {
  const other: Language = current === 'en' ? 'es' : 'en';
  const name = other === 'en' ? 'English' : 'Español';
  return `<a class="lang" href="?lang=${other}" hreflang="${other}" lang="${other}">${name}</a>`;
}
