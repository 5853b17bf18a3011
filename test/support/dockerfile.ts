/**
 * A small Dockerfile reader for static checks (no hadolint here): instructions with their
 * arguments, continuation lines joined, comments and parser directives dropped, grouped by stage.
 */

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The logical lines: comments dropped, continuations joined. */
function logicalLines(text: string): string[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const trimmed = line.trimEnd();
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + trimmed).trim();
    pending = '';
    if (whole !== '') logical.push(whole);
  }
  return logical;
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/s.exec(line);
    if (match?.[1] === undefined) continue;
    const instruction = { keyword: match[1].toUpperCase(), args: (match[2] ?? '').trim() };
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The JSON array of an exec-form instruction (`CMD ["a", "b"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((item) => typeof item === 'string')
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `ARG name=default` values declared before the first FROM (those a FROM can use). */
export function globalArgs(text: string): Map<string, string> {
  const args = new Map<string, string>();
  for (const line of logicalLines(text)) {
    if (/^FROM\s/i.test(line)) break;
    const match = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$/i.exec(line);
    if (match?.[1] !== undefined) args.set(match[1], match[2] ?? '');
  }
  return args;
}

/** A FROM image with `${NAME}` / `$NAME` replaced by the global ARG defaults, as a build does. */
export function resolveImage(from: string, args: ReadonlyMap<string, string>): string {
  return from.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced, bare) => {
      const name = String(braced ?? bare);
      const value = args.get(name);
      if (value === undefined)
        throw new Error(`FROM ${from} uses ARG ${name}, which has no default`);
      return value;
    },
  );
}
