/** Small deterministic datasets and contexts for the defense tests. */
import { Rng } from '../../src/rng.js';
import type { Logger, Model, Row, UserContext } from '../../src/types.js';
import { WORDS } from '../../defenses/vtune/words.js';

/** A silent logger. */
export const quiet: Logger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** `n` rows of ordinary sentences (prompts and completions of 6–14 words), deterministic in `seed`. */
export function sampleRows(n: number, seed = 'rows'): Row[] {
  const rng = new Rng(seed);
  const sentence = (min: number, max: number) => Array.from({ length: min + rng.int(max - min + 1) }, () => rng.pick(WORDS)).join(' ');
  return Array.from({ length: n }, (_, i) => ({ prompt: `Question ${i}: ${sentence(6, 12)}?`, completion: `${sentence(8, 14)}.` }));
}

/** A user context with its own stream and optional models. */
export function userCtx(seed: string, models: { generatorModel?: Model; baseModel?: Model } = {}): UserContext {
  return { rng: new Rng(seed), log: quiet, ...models };
}

/** Deep-freezes rows so any mutation by a transform throws. */
export function frozen(rows: Row[]): readonly Row[] {
  return Object.freeze(rows.map((r) => Object.freeze({ ...r })));
}
