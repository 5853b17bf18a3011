/**
 * `COPY ... FROM STDIN` rows in PostgreSQL's text format, shared by both drivers: the statement
 * names a table and columns (checked identifiers, never data) and every value travels as data.
 */
import pg from 'pg';

/** A value COPY can take: text as it is, numbers and bigints in decimal, null as NULL. */
export type CopyValue = string | number | bigint | boolean | null;

const identifierPattern = /^[a-z_][a-z0-9_]*$/;

/** `COPY "table" ("a", "b") FROM <source>`; names must be plain lower-case identifiers. */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  for (const name of [table, ...columns]) {
    if (!identifierPattern.test(name) || name.length > 63) {
      throw new Error(`COPY needs plain lower-case identifiers, not ${JSON.stringify(name)}`);
    }
  }
  if (columns.length === 0) throw new Error('COPY needs at least one column');
  const names = columns.map((name) => pg.escapeIdentifier(name)).join(', ');
  return `COPY ${pg.escapeIdentifier(table)} (${names}) FROM ${source}`;
}

/**
 * The rows as COPY text: tab-separated, one line each, backslash escapes, `\N` for null. Built
 * by concatenation, escaping only the values that need it: a drain sends thousands of rows per
 * COPY, and a map, a join and a replace per value cost more than the COPY saved.
 */
export function copyText(rows: readonly (readonly CopyValue[])[], width: number): string {
  let text = '';
  for (const row of rows) {
    if (row.length !== width) throw new Error(`a COPY row has ${row.length} of ${width} values`);
    for (let i = 0; i < width; i++) {
      text += copyField(row[i] as CopyValue);
      text += i === width - 1 ? '\n' : '\t';
    }
  }
  return text;
}

const needsEscape = /[\\\t\n\r\0]/;

function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value !== 'string') return String(value);
  if (!needsEscape.test(value)) return value;
  if (value.includes('\0')) throw new Error('COPY text cannot carry a NUL character');
  // https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}
