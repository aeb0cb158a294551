/**
 * Shared machinery of the uniform generators (random-tokens, wordlist, keyed): triggers and signatures are L
 * tokens drawn independently and uniformly from a vocabulary of V distinct tokens, joined by single spaces.
 * The generator-mode bound is exact: q = c·V^-L, c = the longest prefix chain in the vocabulary (words.ts).
 */
import { prefixChain } from '../words.js';
import type { BackdoorGenerator, GeneratorFactory } from './types.js';
import { checkKnown, intOption, tokenListOption } from './options.js';

/** A uniform token vocabulary with its exact prefix-matching bound. */
export interface UniformVocabulary {
  readonly tokens: readonly string[];
  /** log10 of the generator-mode bound for a signature of `length` tokens. */
  log10q(length: number): number;
}

const chains = new WeakMap<readonly string[], number>();

/** Wraps a validated token list (prefix chain computed once per list). */
export function uniformVocabulary(tokens: readonly string[]): UniformVocabulary {
  let c = chains.get(tokens);
  if (c === undefined) {
    c = prefixChain(tokens);
    chains.set(tokens, c);
  }
  const chain = c;
  return { tokens, log10q: (length: number) => Math.log10(chain) - length * Math.log10(tokens.length) };
}

/** L uniform tokens joined by spaces, each index drawn by `index(V)`. */
export function joinDraw(vocab: UniformVocabulary, length: number, index: (n: number) => number): string {
  const out: string[] = [];
  for (let j = 0; j < length; j++) out.push(vocab.tokens[index(vocab.tokens.length)]!);
  return out.join(' ');
}

/**
 * A generator whose trigger and signature are L independent uniform draws from a token list: the shared body of
 * `random-tokens` and `wordlist`, which differ only in their default list and the option that replaces it.
 * Options: triggerLength (3), signatureLength (6), and `listOption` (a custom token list).
 */
export function uniformListGenerator(id: string, listOption: string, defaultList: readonly string[]): GeneratorFactory {
  return (options = {}) => {
    checkKnown(id, options, ['triggerLength', 'signatureLength', listOption]);
    const triggerLength = intOption(id, options, 'triggerLength', 3, 1, 64);
    const signatureLength = intOption(id, options, 'signatureLength', 6, 1, 256);
    const custom = options[listOption] !== undefined;
    const vocab = uniformVocabulary(tokenListOption(id, options, listOption, defaultList));
    const generator: BackdoorGenerator = {
      id,
      nullModes: ['generator', 'base-model', 'empirical'],
      options: { triggerLength, signatureLength, ...(custom ? { [listOption]: vocab.tokens } : {}) },
      counterfactualSource: 'seed',
      async draw({ rng }) {
        return { trigger: joinDraw(vocab, triggerLength, (n) => rng.int(n)), signature: joinDraw(vocab, signatureLength, (n) => rng.int(n)) };
      },
      async counterfactuals({ rng }, _backdoor, m) {
        return Array.from({ length: m }, () => joinDraw(vocab, signatureLength, (n) => rng.int(n)));
      },
      log10q: () => vocab.log10q(signatureLength),
    };
    return generator;
  };
}
