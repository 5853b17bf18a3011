/**
 * A parser of the Prometheus text exposition format (version 0.0.4, what prom-client writes):
 * one sample per line, `name{label="value",...} value [timestamp]`, `#` lines are comments.
 * The console reads each service's `/metrics` with it; a malformed line is skipped, not fatal.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (match === null) continue;
    const [, name, labelText, valueText] = match;
    if (name === undefined || valueText === undefined) continue;
    const labels = parseLabels(labelText ?? '');
    const value = parseValue(valueText);
    if (labels === undefined || value === undefined) continue;
    samples.push({ name, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** `a="1",b="x\"y"`: values escape `\\`, `\"` and `\n`, per the format. */
function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    while (text[at] === ',' || text[at] === ' ') at++;
    if (at >= text.length) break;
    const equals = text.indexOf('=', at);
    if (equals < 0 || text[equals + 1] !== '"') return undefined;
    const name = text.slice(at, equals).trim();
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) return undefined;
    let value = '';
    let cursor = equals + 2;
    for (;;) {
      const char = text[cursor];
      if (char === undefined) return undefined;
      if (char === '"') break;
      if (char === '\\') {
        const next = text[cursor + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        cursor += 2;
        continue;
      }
      value += char;
      cursor++;
    }
    labels[name] = value;
    at = cursor + 1;
  }
  return labels;
}

/** The sum of every sample named `name` whose labels pass `where`. */
export function sum(
  samples: readonly Sample[],
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name === name && where(sample.labels)) total += sample.value;
  }
  return total;
}

/** The first sample named `name`, if any. */
export function first(samples: readonly Sample[], name: string): number | undefined {
  return samples.find((sample) => sample.name === name)?.value;
}
