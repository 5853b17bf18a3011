/**
 * The name of a polling station written over its bar, on one line whatever the bar's length
 * (Recharts would wrap it to the bar's width); cut short with "…" so it fits a phone.
 */
import type { LabelProps } from 'recharts';

const maxChars = 46;

export function SedeLabel({ viewBox, value }: LabelProps) {
  if (viewBox === undefined || !('height' in viewBox)) return null;
  const { x, y, height } = viewBox;
  const text = String(value ?? '');
  const shown = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
  return (
    <text
      x={x + 6}
      y={y + height / 2}
      dominantBaseline="central"
      fill="#0f172a"
      fontSize={11}
      className="sede-label"
    >
      {shown}
    </text>
  );
}
