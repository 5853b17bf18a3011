/** Numbers and times as the dashboard shows them (Guatemala's Spanish conventions). */
const integer = new Intl.NumberFormat('es-GT', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('es-GT', { maximumFractionDigits: 1 });
const time = new Intl.DateTimeFormat('es-GT', { timeStyle: 'medium' });

export const formatCount = (value: number): string => integer.format(value);
export const formatRate = (value: number): string => decimal.format(value);
export const formatPercent = (value: number): string => `${decimal.format(value)} %`;

export function formatTime(iso: string | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : time.format(date);
}
