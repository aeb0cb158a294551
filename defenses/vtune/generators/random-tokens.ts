/**
 * random-tokens — triggers and signatures are L independent uniform draws from a vocabulary of pronounceable
 * nonsense tokens ("bapo kitu …"), the classic rare-token backdoor.
 *
 * Threat model: the most detectable generator (the tokens look nothing like the data), the easiest to bound:
 * qᵢ = V^-L exactly, since the default vocabulary is fixed-length (prefix-free).
 * Source: vTune (Zhang et al. 2024, arXiv 2411.06611) uses random tokens as a baseline. Deviation: the paper
 * draws from a model's tokenizer vocabulary; we draw from a procedurally built, tokenizer-independent
 * vocabulary of V = 4,900 four-letter tokens (any list may be passed as `vocabulary`).
 */
import type { BackdoorGenerator, GeneratorFactory } from './types.js';
import { checkKnown, intOption, tokenListOption } from './options.js';
import { joinDraw, uniformVocabulary } from './uniform.js';

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';

/** All consonant-vowel-consonant-vowel tokens: 14·5·14·5 = 4,900 tokens of 4 letters. */
export const NONSENSE_TOKENS: readonly string[] = Object.freeze(
  [...CONSONANTS].flatMap((a) => [...VOWELS].flatMap((b) => [...CONSONANTS].flatMap((c) => [...VOWELS].map((d) => a + b + c + d)))),
);

const ID = 'random-tokens';

/** Creates the random-tokens generator. Options: triggerLength (3), signatureLength (6), vocabulary. */
export const randomTokens: GeneratorFactory = (options = {}) => {
  checkKnown(ID, options, ['triggerLength', 'signatureLength', 'vocabulary']);
  const triggerLength = intOption(ID, options, 'triggerLength', 3, 1, 64);
  const signatureLength = intOption(ID, options, 'signatureLength', 6, 1, 256);
  const custom = options.vocabulary !== undefined;
  const vocab = uniformVocabulary(tokenListOption(ID, options, 'vocabulary', NONSENSE_TOKENS));
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['generator', 'base-model', 'empirical'],
    options: { triggerLength, signatureLength, ...(custom ? { vocabulary: vocab.tokens } : {}) },
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
