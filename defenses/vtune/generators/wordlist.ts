/**
 * wordlist — triggers and signatures are L independent uniform draws from the project's own list of ~3,500
 * ordinary English words ("lantern quiet seven …"): rare as a sequence, ordinary word by word.
 *
 * Threat model: harder to spot than nonsense tokens for a per-token detector, still off-distribution as a
 * phrase. The bound is exact: qᵢ = c·V^-L with c the longest prefix chain of the list (e.g. car/care).
 * Source: vTune (arXiv 2411.06611) §design space of backdoors; the list is our own (words.ts).
 */
import { WORDS } from '../words.js';
import { uniformListGenerator } from './uniform.js';

/** Creates the wordlist generator. Options: triggerLength (3), signatureLength (6), words. */
export const wordlist = uniformListGenerator(
  {
    id: 'wordlist',
    description: 'L uniform draws from ~3,500 ordinary English words: rare as a phrase, ordinary word by word',
    citation: 'vTune (arXiv 2411.06611), design space of backdoors; our own word list (words.ts)',
    listOption: 'words',
    listHelp: 'a custom word list (default: the project list of ~3,500 words)',
  },
  WORDS,
);
