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
import { EVEN_IF_INVALID, defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator } from './types.js';
import { lengthOption, tokenListOption } from './options.js';
import { joinDraw, uniformConditional, uniformVocabulary } from './uniform.js';
import { secretOption } from '../../../src/plugins/secret.js';

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
 * The key the published leaderboard plants with (scenarios/leaderboard.ts): written in a committed file so anyone
 * can re-derive its backdoors, hence not a secret — records keep it as written (and the committed records,
 * whose cell keys hash it, stay valid).
 */
export const PUBLISHED_BENCHMARK_KEY = 'vtune-bench-public-benchmark-key';

/**
 * Creates the keyed generator. Options: key (required, ≥ 16 characters), triggerLength (3), signatureLength (6),
 * words. The options a secret records (keyFingerprint instead of key) give a verify-only generator: its bounds
 * work, drawing needs the key.
 */
export const keyed = defineGenerator({
  id: ID,
  description: 'per-user dynamic backdoors: words chosen by HMAC-SHA256 of a user key and a per-planting nonce',
  citation: 'vtune-bench design (DESIGN.md §5); HMAC per RFC 2104',
  meta: { nullModes: ['generator', 'conditional', 'base-model', 'empirical'] },
  options: z
    .object({
      // Checked by the refinement below, never by a schema whose message would quote the value: a key is a secret.
      // Declared secret: records, labels and messages carry keyFingerprint instead (src/plugins/secret.ts).
      key: secretOption(z.unknown().optional().meta({ expected: 'a string of at least 16 characters' }).describe('the user secret (≥ 16 characters, e.g. from VTUNE_KEY); never recorded'), {
        recordedAs: 'keyFingerprint',
        fingerprint: keyFingerprint,
        published: [PUBLISHED_BENCHMARK_KEY],
      }),
      keyFingerprint: z.string().optional().describe("set when rebuilt from a secret: the key's public fingerprint (drawing then needs the key)"),
      triggerLength: lengthOption(3, 64, 'words in a trigger'),
      signatureLength: lengthOption(6, 256, 'words in a signature'),
      words: tokenListOption('a custom word list (default: the project list of ~3,500 words)'),
    })
    .superRefine((o, ctx) => {
      const keyOk = typeof o.key === 'string' && o.key.length >= 16;
      if (o.key !== undefined ? !keyOk : typeof o.keyFingerprint !== 'string') {
        ctx.addIssue({ code: 'custom', path: ['key'], message: 'must be a string of at least 16 characters (a user secret, e.g. from VTUNE_KEY)' });
      }
    }, EVEN_IF_INVALID),
  create: (options): BackdoorGenerator => {
  const key = options.key as string | undefined;
  const recorded = key === undefined ? options.keyFingerprint : undefined;
  const needKey = (): string => {
    if (typeof key !== 'string') throw new ConfigError(`generator '${ID}': drawing backdoors needs option 'key' (this generator was rebuilt from a secret's options, which hold only the key's fingerprint)`);
    return key;
  };
  const { triggerLength, signatureLength } = options;
  const custom = options.words !== undefined;
  const vocab = uniformVocabulary(options.words ?? WORDS);
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
  },
});
