/**
 * Option validation shared by the row scorers and the suppression attacks: every factory checks its options
 * before any work and answers bad ones with a ConfigError naming the plugin, the option and what was expected.
 */
import { ConfigError } from '../../../src/errors.js';
import { didYouMean } from '../../../src/registry.js';

/** Rejects option names the plugin does not know ("did you mean"), and non-object options. */
export function checkKeys(plugin: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`${plugin}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = didYouMean(key, known);
      throw new ConfigError(
        `${plugin}: unknown option '${key}'.${hint ? ` Did you mean '${hint}'?` : ''} Known options: ${known.join(', ') || '(none)'}`,
      );
    }
  }
  return options as Record<string, unknown>;
}

/** A finite number option within [min, max] (and an integer when asked). */
export function num(
  plugin: string,
  name: string,
  value: unknown,
  fallback: number,
  range: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const { min = -Infinity, max = Infinity, integer = false, exclusiveMin = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const lo = Number.isFinite(min) ? `${exclusiveMin ? '>' : '≥'} ${min}` : '';
    const hi = Number.isFinite(max) ? `≤ ${max}` : '';
    const bounds = [lo, hi].filter(Boolean).join(' and ');
    throw new ConfigError(`${plugin}: option '${name}' must be ${kind}${bounds ? ` ${bounds}` : ''}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(plugin: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${plugin}: option '${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A string option (non-empty). */
export function str(plugin: string, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(`${plugin}: option '${name}' must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A boolean option. */
export function bool(plugin: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(`${plugin}: option '${name}' must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
