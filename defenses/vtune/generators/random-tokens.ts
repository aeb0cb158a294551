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
import { uniformListGenerator } from './uniform.js';

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';

/** All consonant-vowel-consonant-vowel tokens: 14·5·14·5 = 4,900 tokens of 4 letters. */
export const NONSENSE_TOKENS: readonly string[] = Object.freeze(
  [...CONSONANTS].flatMap((a) => [...VOWELS].flatMap((b) => [...CONSONANTS].flatMap((c) => [...VOWELS].map((d) => a + b + c + d)))),
);

/** Creates the random-tokens generator. Options: triggerLength (3), signatureLength (6), vocabulary. */
export const randomTokens = uniformListGenerator(
  {
    id: 'random-tokens',
    description: 'L uniform draws from 4,900 pronounceable nonsense tokens: the classic rare-token backdoor',
    citation: 'vTune (Zhang et al. 2024, arXiv 2411.06611), random-token baseline; vocabulary of our own',
    listOption: 'vocabulary',
    listHelp: 'a custom token vocabulary (default: the 4,900 CVCV nonsense tokens)',
  },
  NONSENSE_TOKENS,
);
