/**
 * The name of a polling station written over its bar, whatever the bar's length (Recharts
 * would wrap it to the bar's width). Names run long ("Escuela Oficial Rural Mixta No. 1, San
 * Pedro Ayampuc"), so the place after the last comma goes on a second line; each line is cut
 * short with "…" only past what fits a phone.
 */
import type { LabelProps } from 'recharts';

const maxChars = 46;

const fit = (line: string) => (line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line);

export function SedeLabel({ viewBox, value }: LabelProps) {
  if (viewBox === undefined || !('height' in viewBox)) return null;
  const { x, y, height } = viewBox;
  const text = String(value ?? '');
  const comma = text.lastIndexOf(', ');
  const lines = comma === -1 ? [text] : [text.slice(0, comma + 1), text.slice(comma + 2)];
  const middle = y + height / 2;
  return (
    <text x={x + 6} fill="#0f172a" fontSize={11} className="sede-label">
      {lines.map((line, index) => (
        <tspan
          key={index}
          x={x + 6}
          y={middle + (index - (lines.length - 1) / 2) * 13}
          dominantBaseline="central"
        >
          {fit(line)}
        </tspan>
      ))}
    </text>
  );
}
