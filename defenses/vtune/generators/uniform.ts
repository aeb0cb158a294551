/**
 * Shared machinery of the uniform generators (random-tokens, wordlist, keyed): triggers and signatures are L
 * tokens drawn independently and uniformly from a vocabulary of V distinct tokens, joined by single spaces.
 * The generator-mode bound is exact: q = c·V^-L, c = the longest prefix chain in the vocabulary (words.ts).
 */
import { firstIndex } from '../../../src/search.js';
import { prefixChain } from '../words.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator } from './types.js';
import { lengthOption, tokenListOption } from './options.js';

/** A uniform token vocabulary with its exact prefix-matching bound. */
export interface UniformVocabulary {
  readonly tokens: readonly string[];
  /** log10 of the generator-mode bound for a signature of `length` tokens. */
  log10q(length: number): number;
  /**
   * log10 of the exact probability that a signature of `length` uniform tokens joined by single spaces is a
   * prefix of `output` (leading whitespace trimmed) or extends it (the `conditional` null; −Infinity for 0).
   */
  compatibleLog10(length: number, output: string): number;
}

const chains = new WeakMap<readonly string[], number>();
const sortedLists = new WeakMap<readonly string[], { sorted: string[]; set: Set<string>; longest: number }>();

/** How many of the sorted strings start with `prefix` (binary search for the range). */
function countWithPrefix(sorted: readonly string[], prefix: string): number {
  const start = firstIndex(sorted.length, (i) => sorted[i]! < prefix);
  let end = start;
  // Strings with the prefix are contiguous from `start`; gallop then scan (ranges are short).
  while (end < sorted.length && sorted[end]!.startsWith(prefix)) end++;
  return end - start;
}

/** Wraps a validated token list (prefix chain computed once per list). */
export function uniformVocabulary(tokens: readonly string[]): UniformVocabulary {
  let c = chains.get(tokens);
  if (c === undefined) {
    c = prefixChain(tokens);
    chains.set(tokens, c);
  }
  const chain = c;
  const log10V = Math.log10(tokens.length);
  const index = () => {
    let x = sortedLists.get(tokens);
    if (!x) sortedLists.set(tokens, (x = { sorted: [...tokens].sort(), set: new Set(tokens), longest: Math.max(...tokens.map((t) => t.length)) }));
    return x;
  };
  return {
    tokens,
    log10q: (length: number) => Math.log10(chain) - length * log10V,
    compatibleLog10(length: number, output: string): number {
      // Tokens hold no whitespace, so the first j words of a compatible signature are fixed by the output;
      // count, word by word, the tokens that keep the signature compatible (each has probability 1/V).
      const { sorted, set, longest } = index();
      let r = output.trimStart();
      const terms: number[] = []; // log10 of each disjoint compatible set's probability
      for (let j = 0; j < length; j++) {
        const last = j === length - 1;
        if (r.length === 0) {
          terms.push(-j * log10V); // the output ended: every continuation extends it
          break;
        }
        if (!last) {
          // w + ' ' extends r (r ends inside this word or right after its space): all continuations compatible.
          const space = r.indexOf(' ');
          const ending = space < 0 ? countWithPrefix(sorted, r) : space === r.length - 1 && set.has(r.slice(0, -1)) ? 1 : 0;
          if (ending > 0) terms.push(Math.log10(ending) - (j + 1) * log10V);
          if (space < 0 || space === r.length - 1) break;
          const w = r.slice(0, space);
          if (!set.has(w)) break;
          r = r.slice(space + 1);
        } else {
          // The last word: a prefix of r, or extending r (r itself counted once).
          let n = countWithPrefix(sorted, r);
          for (let k = 1; k <= Math.min(r.length, longest); k++) if (set.has(r.slice(0, k)) && !(k === r.length)) n++;
          if (n > 0) terms.push(Math.log10(n) - length * log10V);
        }
      }
      if (terms.length === 0) return -Infinity;
      const max = Math.max(...terms);
      return max + Math.log10(terms.reduce((acc, t) => acc + 10 ** (t - max), 0));
    },
  };
}

/**
 * The `conditional` bound of a uniform generator: the exact compatible mass, or the `generator` bound when that is
 * smaller (both bound the chance of a hit; a short output is extended by many signatures).
 */
export function uniformConditional(vocab: UniformVocabulary, length: number): NonNullable<BackdoorGenerator['conditionalLog10q']> {
  return async (items) => items.map(({ output }) => ({ log10q: Math.min(vocab.compatibleLog10(length, output), vocab.log10q(length)), exact: true }));
}

/** L uniform tokens joined by spaces, each index drawn by `index(V)`. */
export function joinDraw(vocab: UniformVocabulary, length: number, index: (n: number) => number): string {
  const out: string[] = [];
  for (let j = 0; j < length; j++) out.push(vocab.tokens[index(vocab.tokens.length)]!);
  return out.join(' ');
}

/** The null modes a uniform generator's exact bound supports. */
const NULL_MODES = ['generator', 'conditional', 'base-model', 'empirical'] as const;

/**
 * A generator whose trigger and signature are L independent uniform draws from a token list: the shared body of
 * `random-tokens` and `wordlist`, which differ only in their default list and the option that replaces it.
 * Options: triggerLength (3), signatureLength (6), and `listOption` (a custom token list).
 */
export function uniformListGenerator<const Id extends string, const L extends string>(
  spec: { readonly id: Id; readonly description: string; readonly citation: string; readonly listOption: L; readonly listHelp: string },
  defaultList: readonly string[],
) {
  const { id, listOption } = spec;
  return defineGenerator({
    id,
    description: spec.description,
    citation: spec.citation,
    meta: { nullModes: NULL_MODES },
    options: z.object({
      triggerLength: lengthOption(3, 64, 'tokens in a trigger'),
      signatureLength: lengthOption(6, 256, 'tokens in a signature'),
      ...({ [listOption]: tokenListOption(spec.listHelp) } as Record<L, ReturnType<typeof tokenListOption>>),
    }),
    create(options): BackdoorGenerator {
      const { triggerLength, signatureLength } = options as unknown as { triggerLength: number; signatureLength: number };
      const list = (options as Record<string, readonly string[] | undefined>)[listOption];
      // Recorded only when given, so the secret of a default-list generator stays as it always was.
      const vocab = uniformVocabulary(list ?? defaultList);
      return {
        id,
        nullModes: NULL_MODES,
        options: { triggerLength, signatureLength, ...(list !== undefined ? { [listOption]: vocab.tokens } : {}) },
        counterfactualSource: 'seed',
        async draw({ rng }) {
          return { trigger: joinDraw(vocab, triggerLength, (n) => rng.int(n)), signature: joinDraw(vocab, signatureLength, (n) => rng.int(n)) };
        },
        async counterfactuals({ rng }, _backdoor, m) {
          return Array.from({ length: m }, () => joinDraw(vocab, signatureLength, (n) => rng.int(n)));
        },
        log10q: () => vocab.log10q(signatureLength),
        boundFromOptions: () => vocab.log10q(signatureLength),
        conditionalLog10q: uniformConditional(vocab, signatureLength),
      };
    },
  });
}
