/**
 * User and area names as the news system reads them: no invisible or control characters (Cc,
 * Cf and the rest of Unicode's C category: C1 controls, bidi overrides, zero-width marks), user
 * names stored in NFKC, and a comparison key under which look-alike names are the same name.
 *
 * The key is NFKC, case-folded, with the common homoglyphs of Cyrillic, Greek and digits mapped
 * to the Latin letters they imitate: a small, explicit subset of Unicode's confusables (UTS #39
 * skeletons), enough that "Admin", "admin", "ＡＤＭＩＮ" and "аdmin" (Cyrillic а) are one name.
 */
import { charCount, limits, NewsError, type RequestFrame } from './protocol.js';

/** Any character of Unicode's "Other" category: controls, format (invisible), unassigned... */
const invisible = /\p{C}/u;

/** One Latin letter (or two) per look-alike, after NFKC and lower-casing. */
const homoglyphs: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  һ: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  с: 'c',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԁ: 'd',
  ԝ: 'w',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  // Latin look-alikes and digits
  ı: 'i',
  ɡ: 'g',
  ɑ: 'a',
  '0': 'o',
  '1': 'l',
  '|': 'l',
};

/** Sequences that read as one letter in most fonts. */
const digraphs: readonly (readonly [string, string])[] = [
  ['rn', 'm'],
  ['vv', 'w'],
];

/** The comparison key of a name: two names with the same key may not both be registered. */
export function nameKey(name: string): string {
  let key = '';
  for (const char of name.normalize('NFKC').toLowerCase().normalize('NFKC')) {
    key += homoglyphs[char] ?? char;
  }
  for (const [from, to] of digraphs) key = key.replaceAll(from, to);
  return key;
}

/**
 * A name field (user or area): trimmed, 1 to `maxChars` characters, no character of Unicode's
 * C category, in NFKC when `normalize` (user names), so what is stored is what was checked.
 */
export function nameField(
  frame: RequestFrame,
  field: string,
  maxChars: number,
  options: { normalize?: boolean } = {},
): string {
  const value = frame[field];
  if (typeof value !== 'string') {
    throw new NewsError('invalid_request', `field "${field}" must be a string`);
  }
  const name = (options.normalize === true ? value.normalize('NFKC') : value).trim();
  if (name === '' || charCount(name) > maxChars) {
    throw new NewsError(
      'invalid_request',
      `field "${field}" must have 1 to ${maxChars} characters`,
    );
  }
  if (invisible.test(name)) {
    throw new NewsError(
      'invalid_request',
      `field "${field}" must not hold control or invisible characters (such as zero-width spaces or direction overrides)`,
    );
  }
  return name;
}

/** A user name as register, login and create-admin take it: NFKC, trimmed, nothing invisible. */
export function userNameField(frame: RequestFrame): string {
  return nameField(frame, 'name', limits.nameChars, { normalize: true });
}
