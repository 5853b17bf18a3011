/** Figures as the page shows them: short, a dash for what is not known yet. */
export const dash = '–';

export function fixed(value: number | undefined, digits = 0, unit = ''): string {
  return value === undefined || Number.isNaN(value) ? dash : `${value.toFixed(digits)}${unit}`;
}

export function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? dash : `${Math.round(bytes / 1_048_576)} MB`;
}

export function percent(share: number | undefined): string {
  return share === undefined ? dash : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return dash;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3_600)} h`;
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour12: false });
}
