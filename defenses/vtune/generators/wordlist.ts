/**
 * wordlist — triggers and signatures are L independent uniform draws from the project's own list of ~3,500
 * ordinary English words ("lantern quiet seven …"): rare as a sequence, ordinary word by word.
 *
 * Threat model: harder to spot than nonsense tokens for a per-token detector, still off-distribution as a
 * phrase. The bound is exact: qᵢ = c·V^-L with c the longest prefix chain of the list (e.g. car/care).
 * Source: vTune (arXiv 2411.06611) §design space of backdoors; the list is our own (words.ts).
 */
import { WORDS } from '../words.js';
import type { BackdoorGenerator, GeneratorFactory } from './types.js';
import { checkKnown, intOption, tokenListOption } from './options.js';
import { joinDraw, uniformVocabulary } from './uniform.js';

const ID = 'wordlist';

/** Creates the wordlist generator. Options: triggerLength (3), signatureLength (6), words. */
export const wordlist: GeneratorFactory = (options = {}) => {
  checkKnown(ID, options, ['triggerLength', 'signatureLength', 'words']);
  const triggerLength = intOption(ID, options, 'triggerLength', 3, 1, 64);
  const signatureLength = intOption(ID, options, 'signatureLength', 6, 1, 256);
  const custom = options.words !== undefined;
  const vocab = uniformVocabulary(tokenListOption(ID, options, 'words', WORDS));
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['generator', 'base-model', 'empirical'],
    options: { triggerLength, signatureLength, ...(custom ? { words: vocab.tokens } : {}) },
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
