/**
 * Configuration as data: each service declares its settings (variable, type, default, help)
 * and `loadConfig` validates them all once at start, failing with one line that names the
 * variable and what it expects.
 */
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** One setting: where it is read from, how it is parsed, and what it means. */
export interface Setting<T> {
  /** The variable read first; `aliases` are read when it is unset (the seeds' names). */
  variable: string;
  aliases: readonly string[];
  /** What a valid value looks like, for errors and the configuration table. */
  expects: string;
  description: string;
  /** Used when no variable is set; `undefined` makes the setting optional. */
  fallback: T | undefined;
  required: boolean;
  /** A password or key: an error line never shows its value. */
  secret?: boolean;
  parse(raw: string): T | undefined;
}

interface SettingOptions<T> {
  default?: T;
  aliases?: readonly string[];
  description?: string;
  /** Refuse to start when unset and there is no default. */
  required?: boolean;
  /** A password or key: never echoed in an error line. */
  secret?: boolean;
}

/** A setting with a default or marked required always has a value; any other may be undefined. */
type SettingFor<T, O> = O extends { default: T } | { required: true }
  ? Setting<T>
  : Setting<T | undefined>;

function define<T>(variable: string, expects: string, parse: (raw: string) => T | undefined) {
  return <O extends SettingOptions<T>>(options: O = {} as O): SettingFor<T, O> => ({
    variable,
    aliases: options.aliases ?? [],
    expects,
    description: options.description ?? '',
    fallback: options.default,
    required: options.required ?? false,
    secret: options.secret ?? false,
    parse,
  });
}

function parseInteger(raw: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function parseUrl(raw: string, protocols: readonly string[]): string | undefined {
  try {
    return protocols.includes(new URL(raw).protocol) ? raw : undefined;
  } catch {
    return undefined;
  }
}

const truthy = ['true', '1', 'yes'];
const falsy = ['false', '0', 'no'];

/** Builders for each kind of setting: `settings.port('PORT', { default: 5000 })`. */
export const settings = {
  string: <O extends SettingOptions<string>>(
    variable: string,
    options?: O & { minLength?: number },
  ) => {
    const minLength = options?.minLength ?? 1;
    const expects =
      minLength > 1 ? `a string of at least ${minLength} characters` : 'a non-empty string';
    return define(variable, expects, (raw) =>
      raw.trim() === '' || raw.length < minLength ? undefined : raw,
    )(options);
  },

  integer: <O extends SettingOptions<number>>(
    variable: string,
    range: { min: number; max: number },
    options?: O,
  ) =>
    define(variable, `a whole number from ${range.min} to ${range.max}`, (raw) =>
      parseInteger(raw, range.min, range.max),
    )(options),

  port: <O extends SettingOptions<number>>(variable: string, options?: O) =>
    define(variable, 'a port number from 1 to 65535', (raw) => parseInteger(raw, 1, 65_535))(
      options,
    ),

  url: <O extends SettingOptions<string>>(
    variable: string,
    protocols: readonly string[],
    options?: O,
  ) =>
    define(variable, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, (raw) =>
      parseUrl(raw, protocols),
    )(options),

  oneOf: <const T extends string, O extends SettingOptions<T> = SettingOptions<T>>(
    variable: string,
    values: readonly T[],
    options?: O,
  ) =>
    define(variable, `one of ${values.join(', ')}`, (raw) => values.find((v) => v === raw))(
      options,
    ),

  boolean: <O extends SettingOptions<boolean>>(variable: string, options?: O) =>
    define(variable, 'true or false', (raw) => {
      if (truthy.includes(raw.toLowerCase())) return true;
      if (falsy.includes(raw.toLowerCase())) return false;
      return undefined;
    })(options),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any setting type fits a spec
export type SettingsSpec = Record<string, Setting<any>>;

/** The validated object a spec describes. */
export type ConfigOf<S extends SettingsSpec> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/**
 * A refused value as an error line may show it: a secret only by its length, and a URL's
 * user and password (`postgres://app:pw@db`) masked, since error lines end up in shared logs.
 */
function shown(spec: Setting<unknown>, raw: string): string {
  if (spec.secret === true) return `a value of ${raw.length} characters (not shown)`;
  return JSON.stringify(maskUserinfo(raw));
}

/** `scheme://user:password@host` -> `scheme://***@host`, also in a string that is no valid URL. */
export function maskUserinfo(text: string): string {
  return text.replace(/(\/\/)\S*@/g, '$1***@');
}

/** Reads one setting; throws ConfigError naming the variable when the value is wrong. */
export function readSetting<T>(spec: Setting<T>, env: Env): T | undefined {
  for (const variable of [spec.variable, ...spec.aliases]) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = spec.parse(raw);
    if (value === undefined) {
      throw new ConfigError(
        variable,
        `${variable} must be ${spec.expects}, got ${shown(spec, raw)}`,
      );
    }
    return value;
  }
  if (spec.fallback === undefined && spec.required) {
    throw new ConfigError(spec.variable, `${spec.variable} is required: set it to ${spec.expects}`);
  }
  return spec.fallback;
}

/** Validates every setting of a spec at once and returns the typed configuration. */
export function loadConfig<S extends SettingsSpec>(spec: S, env: Env = process.env): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  for (const [key, one] of Object.entries(spec)) {
    config[key] = readSetting(one, env);
  }
  return config as ConfigOf<S>;
}
