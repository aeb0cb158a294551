/**
 * Shared machinery of the uniform generators (random-tokens, wordlist, keyed): triggers and signatures are L
 * tokens drawn independently and uniformly from a vocabulary of V distinct tokens, joined by single spaces.
 * The generator-mode bound is exact: q = c·V^-L, c = the longest prefix chain in the vocabulary (words.ts).
 */
import { prefixChain } from '../words.js';

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
