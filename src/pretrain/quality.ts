/**
 * Quality checks of a base model (issue #5's acceptance figures), as pure functions over token ids and texts:
 * distinct-2 and the longest run of one token in greedy continuations, and random-token strings that a
 * perplexity scorer must tell apart from clean text.
 *
 * Threat model: none (measurement). Source: Li et al. 2016 (distinct-n); the perplexity scorer is
 * attacks/scorers/perplexity.ts.
 */
import type { SpmTokenizer } from '../engine/tokenizer.js';
import { TOKEN_TYPE } from '../engine/tokenizer.js';
import type { Rng } from '../rng.js';

/** Distinct bigrams over all bigrams, pooled over the sequences (1 when there are no bigrams). */
export function distinct2(seqs: readonly (readonly number[])[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const s of seqs) {
    for (let i = 0; i + 1 < s.length; i++) {
      seen.add(`${s[i]},${s[i + 1]}`);
      total++;
    }
  }
  return total === 0 ? 1 : seen.size / total;
}

/** The longest run of one repeated token in any of the sequences. */
export function longestRun(seqs: readonly (readonly number[])[]): number {
  let best = 0;
  for (const s of seqs) {
    let run = 0;
    for (let i = 0; i < s.length; i++) {
      run = i > 0 && s[i] === s[i - 1] ? run + 1 : 1;
      if (run > best) best = run;
    }
  }
  return best;
}

/** A string of `n` tokens drawn uniformly from the tokenizer's normal (text) tokens, decoded. */
export function randomTokenText(tok: SpmTokenizer, n: number, rng: Rng): string {
  const normal: number[] = [];
  for (let id = 0; id < tok.vocabSize; id++) if (tok.data.types[id] === TOKEN_TYPE.NORMAL) normal.push(id);
  const ids = Array.from({ length: n }, () => rng.pick(normal));
  return tok.decode(ids, { prefixSpace: true }).trim();
}
