/**
 * Option validation shared by the generators: every problem names the generator, the option and what was
 * expected, and is raised before any work starts (STYLE.md rule 3).
 */
import { ConfigError } from '../../../src/errors.js';
import { didYouMean } from '../../../src/registry.js';

/** Rejects options the generator does not know, with a "did you mean". */
export function checkKnown(id: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = didYouMean(key, known);
      throw new ConfigError(`generator '${id}': unknown option '${key}'.${hint ? ` Did you mean '${hint}'?` : ''} Known: ${known.join(', ')}`);
    }
  }
}

/** An integer option in [min, max], or its default. */
export function intOption(id: string, options: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = options[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`generator '${id}': option '${name}' must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A finite number option in (min, max], or its default. */
export function numberOption(id: string, options: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = options[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= min || v > max) {
    throw new ConfigError(`generator '${id}': option '${name}' must be a number in (${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * A list of distinct tokens without whitespace (a custom vocabulary or word list), or the default. Duplicates
 * are an error: silently merging them would change the uniform distribution the bound is computed for.
 */
export function tokenListOption(id: string, options: Record<string, unknown>, name: string, fallback: readonly string[]): readonly string[] {
  const v = options[name] ?? fallback;
  if (!Array.isArray(v) || v.length < 2) throw new ConfigError(`generator '${id}': option '${name}' must be a list of at least 2 tokens`);
  const seen = new Set<string>();
  for (const t of v) {
    if (typeof t !== 'string' || t.length === 0 || /\s/.test(t)) {
      throw new ConfigError(`generator '${id}': option '${name}' must hold non-empty strings without whitespace, got ${JSON.stringify(t)}`);
    }
    if (seen.has(t)) throw new ConfigError(`generator '${id}': option '${name}' lists '${t}' twice`);
    seen.add(t);
  }
  return v as string[];
}
