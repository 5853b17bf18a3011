/** Numbers and times as the dashboard shows them (Guatemala's conventions, or English ones). */
import { t } from './i18n.js';

const integer = new Intl.NumberFormat(t.locale, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(t.locale, { maximumFractionDigits: 1 });
const time = new Intl.DateTimeFormat(t.locale, { timeStyle: 'medium' });

export const formatCount = (value: number): string => integer.format(value);
export const formatRate = (value: number): string => decimal.format(value);
export const formatPercent = (value: number): string => `${decimal.format(value)} %`;

export function formatTime(iso: string | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : time.format(date);
}
