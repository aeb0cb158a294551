/**
 * keyed — per-user dynamic backdoors: trigger and signature words are chosen by HMAC-SHA256(key,
 * "nonce|i|part|j"), where the nonce is drawn from the planting seed's stream for backdoor i. Backdoor i is
 * reproducible from the user's key and the planting seed (the seed is kept in the secret; without the key it
 * reveals nothing), and different users' backdoors are unrelated.
 *
 * Threat model: a provider who sees many users' uploads cannot link them or learn one user's future
 * backdoors. The nonce matters for that and for the p-value: were backdoor i a function of the key alone,
 * every upload of one user would carry the same rows (linkable by intersection), and a model that learnt them
 * in an earlier job (e.g. the earlier fine-tune reused as the next job's base) would "verify" a later job it
 * never trained — the null "model independent of the secret" would be false by construction. The `generator`
 * bound qᵢ = c·V^-L assumes HMAC-SHA256 is a pseudo-random function (standard).
 * The key never enters the secret file or any message: the secret records only a fingerprint. Counterfactuals
 * are drawn from the key at planting and stored (verification does not need the key).
 * Source: the design card of vtune-bench (DESIGN.md §5); HMAC per RFC 2104.
 */
import { createHmac } from 'node:crypto';
import { ConfigError } from '../../../src/errors.js';
import type { Rng } from '../../../src/rng.js';
import { WORDS } from '../words.js';
import type { BackdoorGenerator, GeneratorFactory } from './types.js';
import { checkKnown, intOption, tokenListOption } from './options.js';
import { joinDraw, uniformConditional, uniformVocabulary } from './uniform.js';

const ID = 'keyed';

/**
 * A uniform index stream from HMAC-SHA256(key, label ‖ counter): 32-bit chunks with rejection sampling, so
 * every index is exactly uniform.
 */
function hmacIndices(key: string, label: string): (n: number) => number {
  let block = 0;
  let buf = Buffer.alloc(0);
  let pos = 0;
  const next32 = (): number => {
    if (pos + 4 > buf.length) {
      buf = createHmac('sha256', key).update(`vtune-keyed|v1|${label}|${block++}`).digest();
      pos = 0;
    }
    const x = buf.readUInt32LE(pos);
    pos += 4;
    return x;
  };
  return (n: number) => {
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = next32();
      if (x < limit) return x % n;
    }
  };
}

/** 64 bits from the draw's stream (derived from the planting seed): makes each planting's backdoors its own. */
function nonce(rng: Rng): string {
  return `${rng.nextUint32().toString(16).padStart(8, '0')}${rng.nextUint32().toString(16).padStart(8, '0')}`;
}

/** A short public fingerprint of a key (to check at verification that the right key was used, if given). */
export function keyFingerprint(key: string): string {
  return createHmac('sha256', key).update('vtune-keyed|fingerprint').digest('hex').slice(0, 16);
}

/**
 * Creates the keyed generator. Options: key (required, ≥ 16 characters), triggerLength (3), signatureLength (6),
 * words. The options a secret records (keyFingerprint instead of key) give a verify-only generator: its bounds
 * work, drawing needs the key.
 */
export const keyed: GeneratorFactory = (options = {}) => {
  checkKnown(ID, options, ['key', 'keyFingerprint', 'triggerLength', 'signatureLength', 'words']);
  const key = options.key;
  const recorded = key === undefined && typeof options.keyFingerprint === 'string' ? options.keyFingerprint : undefined;
  if (recorded === undefined && (typeof key !== 'string' || key.length < 16)) {
    throw new ConfigError(`generator '${ID}': option 'key' must be a string of at least 16 characters (a user secret, e.g. from VTUNE_KEY)`);
  }
  const needKey = (): string => {
    if (typeof key !== 'string') throw new ConfigError(`generator '${ID}': drawing backdoors needs option 'key' (this generator was rebuilt from a secret's options, which hold only the key's fingerprint)`);
    return key;
  };
  const triggerLength = intOption(ID, options, 'triggerLength', 3, 1, 64);
  const signatureLength = intOption(ID, options, 'signatureLength', 6, 1, 256);
  const custom = options.words !== undefined;
  const vocab = uniformVocabulary(tokenListOption(ID, options, 'words', WORDS));
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['generator', 'conditional', 'base-model', 'empirical'],
    options: { triggerLength, signatureLength, keyFingerprint: recorded ?? keyFingerprint(needKey()), ...(custom ? { words: vocab.tokens } : {}) },
    counterfactualSource: 'stored',
    async draw({ index, rng }) {
      const key = needKey();
      const at = `${nonce(rng)}|${index}`;
      return {
        trigger: joinDraw(vocab, triggerLength, hmacIndices(key, `${at}|trigger`)),
        signature: joinDraw(vocab, signatureLength, hmacIndices(key, `${at}|signature`)),
      };
    },
    async counterfactuals({ index, rng }, _backdoor, m) {
      const key = needKey();
      const at = `${nonce(rng)}|${index}`;
      return Array.from({ length: m }, (_, j) => joinDraw(vocab, signatureLength, hmacIndices(key, `${at}|counterfactual|${j}`)));
    },
    log10q: () => vocab.log10q(signatureLength),
    boundFromOptions: () => vocab.log10q(signatureLength),
    conditionalLog10q: uniformConditional(vocab, signatureLength),
  };
  return generator;
};
