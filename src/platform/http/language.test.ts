import { describe, expect, it } from 'vitest';

import { chooseLanguage, fromAcceptLanguage } from './language.js';

describe('choosing a page language', () => {
  it('reads Accept-Language by quality, English when nothing fits', () => {
    expect(fromAcceptLanguage('es-GT,es;q=0.9,en;q=0.5')).toBe('es');
    expect(fromAcceptLanguage('fr;q=1, en;q=0.4, es;q=0.8')).toBe('es');
    expect(fromAcceptLanguage('de, fr')).toBe('en');
    expect(fromAcceptLanguage('es;q=0')).toBe('en');
    expect(fromAcceptLanguage(undefined)).toBe('en');
  });

  it('lets ?lang= win and remember itself, then the cookie, then the header', () => {
    const headers = { 'accept-language': 'es', cookie: 'a=1; lang=en' };
    expect(chooseLanguage({ lang: 'es' }, {})).toMatchObject({
      language: 'es',
      setCookie: expect.stringContaining('lang=es;') as unknown,
    });
    expect(chooseLanguage({}, headers)).toEqual({ language: 'en' });
    expect(chooseLanguage({ lang: 'xx' }, { 'accept-language': 'es' })).toEqual({ language: 'es' });
  });
});
