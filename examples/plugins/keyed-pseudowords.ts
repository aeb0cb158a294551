/**
 * keyed-pseudowords — an OUT-OF-TREE backdoor generator: a worked example of adding your own generator to
 * vtune-bench without forking it (`vtune-bench run --plugin examples/plugins/keyed-pseudowords.ts …`, or a
 * scenario's `plugins: ['./keyed-pseudowords.ts']`). README "Your own plugins" walks through it.
 *
 * What it draws: triggers and signatures of pronounceable pseudo-words ("tavoki rusela …"), each syllable chosen
 * by HMAC-SHA256(key, nonce | backdoor | part | position). Only the holder of the key can produce them; the nonce
 * comes from the planting stream, so two plantings of one user are unrelated (a provider cannot link uploads).
 *
 * Threat model: a provider who sees the rows but not the key. Pseudo-words read like names, so a per-token
 * rarity detector finds them less odd than random tokens; a provider that learnt an earlier upload's backdoors
 * learns nothing about the next.
 *
 * The bound (the `generator` null mode) is exact: every pseudo-word has the same number of 2-letter syllables,
 * so all signatures have the same length and at most one of them is a prefix of any output; each is drawn
 * with probability V^-L (V = 70^syllables pseudo-words, L = signatureLength words), assuming HMAC-SHA256 is a
 * pseudo-random function.
 * Source: the `keyed` built-in generator (defenses/vtune/generators/keyed.ts) with a pseudo-word vocabulary.
 */
import { createHmac } from 'node:crypto';
import type { BackdoorGenerator } from '../../defenses/vtune/generators/types.js';
import { ConfigError } from '../../src/errors.js';
import { defineGenerator, z } from '../../src/plugins/define.js';
import type { Rng } from '../../src/rng.js';

/** 14 consonants × 5 vowels: 70 syllables of exactly 2 letters (so every pseudo-word has the same length). */
const SYLLABLES = [...'bdfgklmnprstvz'].flatMap((c) => [...'aeiou'].map((v) => c + v));

/** A short public fingerprint of the key: recorded in the secret instead of the key. */
function fingerprint(key: string): string {
  return createHmac('sha256', key).update('keyed-pseudowords|fingerprint').digest('hex').slice(0, 16);
}

/** 64 bits from the planting stream: makes each planting's backdoors its own. */
function nonce(rng: Rng): string {
  return `${rng.nextUint32().toString(16).padStart(8, '0')}${rng.nextUint32().toString(16).padStart(8, '0')}`;
}

/** `words` pseudo-words of `syllables` syllables, every choice exactly uniform (rejection sampling on HMAC bytes). */
function pseudoWords(key: string, label: string, words: number, syllables: number): string {
  const bytes: number[] = [];
  let block = 0;
  const nextByte = (): number => {
    if (bytes.length === 0) bytes.push(...createHmac('sha256', key).update(`${label}|${block++}`).digest());
    return bytes.shift()!;
  };
  const limit = 256 - (256 % SYLLABLES.length);
  const syllable = (): string => {
    for (;;) {
      const b = nextByte();
      if (b < limit) return SYLLABLES[b % SYLLABLES.length]!;
    }
  };
  return Array.from({ length: words }, () => Array.from({ length: syllables }, syllable).join('')).join(' ');
}

export const keyedPseudowords = defineGenerator({
  id: 'keyed-pseudowords',
  description: 'keyed pronounceable pseudo-words (HMAC of a user key): per-user backdoors with an exact bound',
  citation: "vtune-bench's keyed generator (DESIGN.md §5), with a pseudo-word vocabulary",
  options: z
    .object({
      key: z.string().min(16).optional().describe('the user secret (≥ 16 characters); never recorded, only its fingerprint'),
      keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/).optional().describe('set when rebuilt from a secret (verification needs no key)'),
      syllables: z.int().min(2).max(6).default(3).describe('syllables per pseudo-word (V = 70^syllables words)'),
      triggerLength: z.int().min(1).max(16).default(2).describe('pseudo-words in a trigger'),
      signatureLength: z.int().min(1).max(32).default(4).describe('pseudo-words in a signature'),
    })
    .refine((o) => o.key !== undefined || o.keyFingerprint !== undefined, { path: ['key'], message: 'required: a user secret of at least 16 characters' }),
  create({ key, keyFingerprint, syllables, triggerLength, signatureLength }): BackdoorGenerator {
    const needKey = (): string => {
      if (key === undefined) throw new ConfigError("generator 'keyed-pseudowords': drawing backdoors needs option 'key' (rebuilt from a secret, it holds only the key's fingerprint)");
      return key;
    };
    // log10 q = −L·log10 V: one signature per output at most (all signatures have the same length).
    const log10q = -signatureLength * syllables * Math.log10(SYLLABLES.length);
    return {
      id: 'keyed-pseudowords',
      nullModes: ['generator', 'empirical'],
      options: { syllables, triggerLength, signatureLength, keyFingerprint: keyFingerprint ?? fingerprint(needKey()) },
      // Counterfactuals need the key: drawn at planting and kept in the secret.
      counterfactualSource: 'stored',
      async draw({ index, rng }) {
        const at = `keyed-pseudowords|${nonce(rng)}|${index}`;
        return { trigger: pseudoWords(needKey(), `${at}|trigger`, triggerLength, syllables), signature: pseudoWords(needKey(), `${at}|signature`, signatureLength, syllables) };
      },
      async counterfactuals({ index, rng }, _backdoor, m) {
        const at = `keyed-pseudowords|${nonce(rng)}|${index}`;
        return Array.from({ length: m }, (_, j) => pseudoWords(needKey(), `${at}|counterfactual|${j}`, signatureLength, syllables));
      },
      log10q: () => log10q,
      boundFromOptions: () => log10q,
    };
  },
});
