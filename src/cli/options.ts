/**
 * Checks shared by the CLI commands: every numeric option has a range (a bad value names the option and the
 * range expected), a repeated single-valued option is an error rather than a comma-joined value, and an option
 * that names a place inside a folder (a run id) is checked where it is used (src/runner/run.ts `checkRunId`).
 */
import { ConfigError } from '../errors.js';

/** The range of a numeric option: integer or real, between `min` and `max` (inclusive unless `minExclusive`). */
export interface NumberRange {
  readonly int?: boolean;
  readonly min: number;
  readonly max: number;
  /** The lower bound itself is not allowed (e.g. a rate in (0, 1]). */
  readonly minExclusive?: boolean;
}

/** The most rows a dataset may have (the dataset loader's own limit). */
export const MAX_ROWS = 1_000_000;
/** Seeds are non-negative safe integers (they name random streams). */
export const SEED_RANGE: NumberRange = { int: true, min: 0, max: Number.MAX_SAFE_INTEGER };

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string): string => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** How a range reads in a message: "an integer from 1 to 100" or "a number in (0, 1]". */
export function describeRange(r: NumberRange): string {
  if (r.int && !r.minExclusive) return `an integer from ${r.min} to ${r.max}`;
  return `${r.int ? 'an integer' : 'a number'} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}]`;
}

/** Whether `v` is a number inside `r`. */
function inRange(v: unknown, r: NumberRange): v is number {
  return (
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!r.int || Number.isInteger(v)) &&
    (r.minExclusive ? v > r.min : v >= r.min) &&
    v <= r.max
  );
}

/**
 * The value of numeric option `name` (kebab or camel case) from parsed arguments, checked against `range`;
 * undefined when the option was not given. A value outside the range (or not a number: yargs turns `abc`
 * into NaN) is a ConfigError naming `--name` and the range.
 */
export function numberOption(args: Record<string, unknown>, name: string, range: NumberRange): number | undefined {
  const key = camel(name);
  const raw = args[key] ?? args[name];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw repeated(kebab(name), raw);
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (!inRange(v, range)) {
    const got = typeof raw === 'number' && Number.isNaN(raw) ? 'a value that is not a number' : JSON.stringify(raw);
    throw new ConfigError(`--${kebab(name)} must be ${describeRange(range)}, got ${got}`);
  }
  return v;
}

function repeated(option: string, values: readonly unknown[]): ConfigError {
  return new ConfigError(`--${option} was given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}); it takes one value`);
}

/**
 * Refuses a repeated single-valued option. yargs collects `--results a --results b` into an array (its
 * `duplicate-arguments-array` setting applies to every option at once, and turning it off would silently keep
 * the last value), so every option not declared as an array must arrive as one value.
 * `options` is yargs' `getOptions()` of the command being run.
 */
export function checkSingleValued(argv: Record<string, unknown>, options: { key: Record<string, unknown>; array: readonly string[] }): void {
  for (const key of Object.keys(options.key)) {
    if (options.array.includes(key) || options.array.includes(camel(key))) continue;
    const v = argv[key];
    if (Array.isArray(v)) throw repeated(key, v);
  }
}
