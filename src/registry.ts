import { ConfigError } from './errors.js';

/**
 * A typed registry of plugins of one kind (attacks, generators, providers…), keyed by kebab-case id. Built
 * from declared plugins (`registryOf`, src/plugins/define.ts) or an object literal (`defineRegistry`).
 * Lookups of an unknown id fail with a "did you mean" hint; registering an id twice is an error naming both
 * sources.
 */
export interface Registry<T extends Record<string, unknown>> {
  readonly kind: string;
  readonly entries: T;
  /** All ids, in registration order. */
  readonly ids: readonly (keyof T & string)[];
  has(id: string): id is keyof T & string;
  /** The entry for `id`, or a ConfigError: "unknown attack 'x'. Did you mean 'y'? Available: …". */
  get<K extends keyof T & string>(id: K | string): T[K];
  /**
   * Adds a plugin from outside the registry's module (a `--plugin` module, a test). `source` names where it
   * comes from; an id already taken is a ConfigError naming both sources.
   */
  register(id: string, entry: T[keyof T], source?: string): void;
  /** Where an entry was registered from (a file or module), if known. */
  sourceOf(id: string): string | undefined;
}

/** Builds a registry over an object literal of plugins; `kind` names them in error messages. */
export function defineRegistry<T extends Record<string, unknown>>(kind: string, entries: T, sources: Readonly<Record<string, string>> = {}): Registry<T> {
  const own = (id: string): boolean => Object.prototype.hasOwnProperty.call(entries, id);
  const from = new Map<string, string>(Object.entries(sources));
  return {
    kind,
    entries,
    get ids() {
      return Object.keys(entries) as (keyof T & string)[];
    },
    has: (id: string): id is keyof T & string => own(id),
    get(id: string) {
      if (own(id)) return entries[id as keyof T & string];
      throw new ConfigError(unknownMessage(kind, id, Object.keys(entries)));
    },
    register(id: string, entry: T[keyof T], source = '(unknown)') {
      if (own(id)) {
        throw new ConfigError(`${kind} '${id}' is registered twice: by ${from.get(id) ?? 'the built-in registry'} and by ${source}; rename one of them`);
      }
      (entries as Record<string, unknown>)[id] = entry;
      from.set(id, source);
    },
    sourceOf: (id: string) => from.get(id),
  } as Registry<T>;
}

/** The id-keyed entries of a list of declared plugins. */
export type EntriesOf<D extends readonly { readonly id: string }[]> = { [E in D[number] as E['id']]: E };

/**
 * Builds a registry from declared plugins (src/plugins/define.ts), keyed by each one's `id`; two with the
 * same id are a ConfigError naming both sources.
 */
export function registryOf<const D extends readonly { readonly id: string; readonly source?: string }[]>(kind: string, definitions: D): Registry<EntriesOf<D>> {
  const registry = defineRegistry(kind, {} as Record<string, unknown>);
  for (const def of definitions) registry.register(def.id, def, def.source);
  return registry as unknown as Registry<EntriesOf<D>>;
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
