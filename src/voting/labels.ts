/**
 * What the two options are called (the seed's OPTION_A / OPTION_B, default Cats and Dogs),
 * shared by the vote and result pages.
 */
import { type ConfigOf, settings } from '../platform/config.js';
import type { VoteOption } from './protocol.js';

export const labelSettings = {
  optionA: settings.string('OPTION_A', { default: 'Cats', description: 'Name of option a.' }),
  optionB: settings.string('OPTION_B', { default: 'Dogs', description: 'Name of option b.' }),
};

export type Labels = Record<VoteOption, string>;

export function labelsOf(config: ConfigOf<typeof labelSettings>): Labels {
  return { a: config.optionA, b: config.optionB };
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe to put inside HTML, for labels and messages that come from outside. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => htmlEscapes[char] ?? char);
}
