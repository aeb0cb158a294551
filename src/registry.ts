import { ConfigError } from './errors.js';

/**
 * A typed registry of plugins of one kind (attacks, generators, providers…): one object literal in
 * `<kind>/index.ts`, its keys the kebab-case ids. Lookups of an unknown id fail with a "did you mean" hint.
 */
export interface Registry<T extends Record<string, unknown>> {
  readonly kind: string;
  readonly entries: T;
  /** All ids, in declaration order. */
  readonly ids: readonly (keyof T & string)[];
  has(id: string): id is keyof T & string;
  /** The entry for `id`, or a ConfigError: "unknown attack 'x'. Did you mean 'y'? Available: …". */
  get<K extends keyof T & string>(id: K | string): T[K];
}

/** Builds a registry over an object literal of plugins; `kind` names them in error messages. */
export function defineRegistry<T extends Record<string, unknown>>(kind: string, entries: T): Registry<T> {
  const ids = Object.keys(entries) as (keyof T & string)[];
  return {
    kind,
    entries,
    ids,
    has: (id: string): id is keyof T & string => Object.prototype.hasOwnProperty.call(entries, id),
    get(id: string) {
      if (Object.prototype.hasOwnProperty.call(entries, id)) return entries[id as keyof T & string];
      throw new ConfigError(unknownMessage(kind, id, ids));
    },
  } as Registry<T>;
}

/** "unknown attack 'x'. Did you mean 'y'? Available: a, b, c" */
export function unknownMessage(kind: string, id: string, available: readonly string[]): string {
  const hint = didYouMean(id, available);
  return `unknown ${kind} '${id}'.${hint ? ` Did you mean '${hint}'?` : ''} Available: ${available.join(', ') || '(none)'}`;
}

/** The closest candidate by edit distance, if it is close enough to be a plausible typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  if (bestDistance <= limit || best.startsWith(input) || input.startsWith(best)) return best;
  return undefined;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
