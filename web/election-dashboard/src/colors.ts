/**
 * Chart colours: distinct and readable on white. A party keeps its colour in every chart
 * because it is picked by the party's place in the full, sorted list of parties.
 */
const palette = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#d97706',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#475569',
  '#ea580c',
  '#1e3a8a',
  '#991b1b',
  '#14532d',
  '#a16207',
  '#5b21b6',
  '#155e75',
  '#9d174d',
  '#3f6212',
  '#94a3b8',
  '#fb923c',
];

export function colorOf(partido: string, partidos: readonly string[]): string {
  const index = partidos.indexOf(partido);
  return palette[(index < 0 ? partidos.length : index) % palette.length] ?? '#475569';
}
