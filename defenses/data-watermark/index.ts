/**
 * data-watermark — a rival verifier (issue 19): plant ONE random character sequence (the watermark) into many
 * rows; later, the returned model's mean per-token loss on the watermark is ranked among the losses of M
 * watermarks drawn from the same distribution and never planted.
 *
 * Source: Wei, Wang, Jia, "Proving membership in LLM pretraining data via data watermarks" (ACL 2024, arXiv
 * 2402.10892): a rightholder inserts a randomly sampled sequence into its documents before release; the
 * model's average token loss on the inserted watermark is the test statistic, and the losses of random
 * sequences from the same distribution form its null distribution (the paper reports a z-score against it).
 *
 * Deviations (all written down in README.md as well):
 * - Fine-tuning rows, not pretraining documents: the watermark goes into the COMPLETION of a seeded fraction
 *   of the rows (`rate`, default 0.1), because the trainers compute their loss on completions
 *   only; `placement: 'end'` (default) appends it after a space, `'inside'` puts it at a seeded word boundary
 *   of the completion. The rows keep their order and count (the host row is modified in place).
 * - Decision by the RANK test: p = (1 + #{m : loss(nullₘ) ≤ loss(watermark)}) / (M + 1), exact under
 *   exchangeability (the watermark and the M nulls are i.i.d. draws and the model never saw any of them under
 *   H0), ties counted against the user. The paper's z-test (normal tail of (mean_null − loss)/sd_null) is
 *   computed and reported in `statistic.detail` but never decides: it assumes the null losses are normal, and a
 *   few watermarks that split into unusual tokens give a skewed, heavy-tailed loss distribution, so its tail
 *   can be far from the truth exactly where decisions are made (p ≤ 1e-3). The rank test's floor is
 *   1/(M + 1): M = 999 by default, so α = 1e-3 is reachable.
 * - The loss is scored context-free: `score('', watermark)` (the paper scores the sequence itself); a model
 *   that learnt the sequence after the rows' text shows it in the transitions between the watermark's own
 *   tokens. Per-token mean over the tokens the model reports (its own tokenizer), as in the paper.
 * - One watermark per planting; the paper also studies several watermarks, Unicode look-alike substitutions
 *   and SHA-hash "natural" watermarks, none of which is implemented here.
 *
 * Secret: the watermark, the seed of the null draws (the M nulls are redrawn from it at verification, never
 * stored), the watermarked rows' indices (ground truth only) and the distribution's parameters. The planted
 * rows are all the provider side receives; the nulls appear nowhere in them.
 */
import { createHash } from 'node:crypto';
import { ConfigError, SecretError } from '../../src/errors.js';
import { DEFENSE_SEED_ALPHA, defineDefense, type OptionsInput, satisfying, z } from '../../src/plugins/define.js';
import { Rng } from '../../src/rng.js';
import { log1mExp, normalLogUpperTail } from '../../src/stats/index.js';
import type { Capability, Defense, Model, Row, UserContext, Verdict } from '../../src/types.js';
import type { BackdoorMarker } from '../../src/pipeline/ground-truth.js';

/** Printable ASCII without the space (33–126): 94 characters, the default alphabet. */
export const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');

/** What the user keeps. */
export interface DataWatermarkSecret {
  readonly version: 1;
  readonly defense: 'data-watermark';
  readonly seed: string;
  readonly watermark: string;
  /** Seed of the M null draws: the nulls are recreated from it at verification. */
  readonly nullSeed: string;
  readonly nulls: number;
  readonly alphabet: string;
  readonly length: number;
  readonly placement: 'end' | 'inside';
  /** Indices (into the planted rows) of the rows that carry the watermark, ascending. */
  readonly rows: readonly number[];
}

/** The data-watermark defense with validated options. */
export interface DataWatermarkDefense extends Defense<DataWatermarkSecret> {
  readonly access: readonly Capability[];
  backdoorMarkers(secret: DataWatermarkSecret, plantedRowCount: number): (BackdoorMarker | undefined)[];
}

/** Largest M accepted (each null costs one scored item). */
export const MAX_NULLS = 100_000;

/** Draws one watermark: `length` independent uniform characters of `alphabet`. */
export function drawWatermark(rng: Rng, alphabet: string, length: number): string {
  const chars = [...alphabet];
  let out = '';
  for (let i = 0; i < length; i++) out += chars[rng.int(chars.length)]!;
  return out;
}

/** The M null watermarks of a secret, recreated from its null seed (same distribution as the watermark). */
export function nullWatermarks(secret: Pick<DataWatermarkSecret, 'nullSeed' | 'nulls' | 'alphabet' | 'length'>): string[] {
  const rng = new Rng(`data-watermark|nulls|${secret.nullSeed}`);
  return Array.from({ length: secret.nulls }, () => drawWatermark(rng, secret.alphabet, secret.length));
}

/** Puts the watermark into a completion: after a space at the end, or at a word boundary chosen by `rng`. */
export function insertWatermark(completion: string, watermark: string, placement: 'end' | 'inside', rng: Rng): string {
  if (placement === 'end' || completion.length === 0) return completion.length === 0 ? watermark : `${completion} ${watermark}`;
  // Word boundaries: the start, every position just after a space, and the end.
  const spots = [0];
  for (let i = 0; i < completion.length; i++) if (completion[i] === ' ') spots.push(i + 1);
  spots.push(completion.length);
  const at = spots[rng.int(spots.length)]!;
  if (at === completion.length) return `${completion} ${watermark}`;
  return `${completion.slice(0, at)}${watermark} ${completion.slice(at)}`;
}

/** The rank-test p-value: (1 + #{null ≤ observed}) / (M + 1); lower loss is stronger evidence. */
export function rankPValue(observedLoss: number, nullLosses: readonly number[]): { p: number; atOrBelow: number } {
  let atOrBelow = 0;
  for (const l of nullLosses) if (!(l > observedLoss)) atOrBelow++; // a NaN null counts against the user
  return { p: (1 + atOrBelow) / (nullLosses.length + 1), atOrBelow };
}

/** The paper's z-test, reported only: z = (mean_null − loss) / sd_null, one-sided normal p = P(Z ≥ z). */
export function zTest(observedLoss: number, nullLosses: readonly number[]): { z: number; log10p: number } {
  const m = nullLosses.length;
  if (m < 2) return { z: NaN, log10p: NaN };
  const mean = nullLosses.reduce((a, b) => a + b, 0) / m;
  const sd = Math.sqrt(nullLosses.reduce((a, b) => a + (b - mean) ** 2, 0) / (m - 1));
  const z = (mean - observedLoss) / sd;
  if (!Number.isFinite(z)) return { z, log10p: NaN };
  const lnP = z >= 0 ? normalLogUpperTail(z) : log1mExp(normalLogUpperTail(-z));
  return { z, log10p: lnP / Math.LN10 };
}

/** Mean per-token loss (−ln p per token) of each text scored context-free; one score call for all of them. */
export async function watermarkLosses(model: Model, texts: readonly string[]): Promise<number[]> {
  if (!model.score || !model.capabilities.has('logprobs')) {
    const why = model.unavailable?.logprobs ? ` (${model.unavailable.logprobs})` : '';
    throw new ConfigError(`data-watermark: verification needs 'logprobs' access, which model '${model.id}' cannot give${why}`);
  }
  const scores = await model.score(texts.map((continuation) => ({ prompt: '', continuation })));
  return scores.map((s) => (s.tokenLogprobs.length > 0 ? -s.logprob / s.tokenLogprobs.length : NaN));
}

function hex64(rng: Rng): string {
  return `${rng.nextUint32().toString(16).padStart(8, '0')}${rng.nextUint32().toString(16).padStart(8, '0')}`;
}

/** Checks a secret's fields before any query; a secret that does not hold together is refused by name. */
export function checkSecret(secret: unknown): DataWatermarkSecret {
  const s = secret as Partial<DataWatermarkSecret> | null;
  const bad = (field: string, want: string) => new SecretError(`data-watermark secret: field '${field}' must be ${want}`);
  if (typeof s !== 'object' || s === null) throw new SecretError('data-watermark secret: expected an object');
  if (s.version !== 1 || s.defense !== 'data-watermark') throw bad('version/defense', "1 / 'data-watermark'");
  if (typeof s.alphabet !== 'string' || [...s.alphabet].length < 2) throw bad('alphabet', 'a string of at least 2 characters');
  if (!Number.isInteger(s.length) || s.length! < 1) throw bad('length', 'a positive integer');
  if (typeof s.watermark !== 'string' || [...s.watermark].length !== s.length || [...s.watermark].some((c) => !s.alphabet!.includes(c))) {
    throw bad('watermark', `${s.length} characters of the secret's alphabet`);
  }
  if (typeof s.nullSeed !== 'string' || s.nullSeed.length === 0) throw bad('nullSeed', 'a non-empty string');
  if (!Number.isInteger(s.nulls) || s.nulls! < 1 || s.nulls! > MAX_NULLS) throw bad('nulls', `an integer from 1 to ${MAX_NULLS}`);
  if (!Array.isArray(s.rows) || s.rows.some((r) => !Number.isInteger(r) || r < 0)) throw bad('rows', 'an array of row indices');
  return s as DataWatermarkSecret;
}

/** The defense's options, declared once: type, validation (field paths, "did you mean"), defaults and help. */
const dataWatermarkOptions = z.object({
  rate: z.number().gt(0).lte(1).default(0.1).describe('fraction of the rows that get the watermark (refused when it rounds to no row)'),
  length: z.int().min(1).max(200).default(10).describe("characters in the watermark (10: the length of the paper's Figure 1 example)"),
  alphabet: satisfying(z.string(), 'a string of at least 2 distinct non-space characters', (a) => new Set(a).size === [...a].length && [...a].length >= 2 && !/\s/u.test(a))
    .default(PRINTABLE)
    .describe('the characters the watermark is drawn from, uniformly and independently (default: printable ASCII without the space)'),
  placement: z.enum(['end', 'inside']).default('end').describe("where in the completion: appended after a space ('end') or at a seeded word boundary ('inside')"),
  nulls: z.int().min(1).max(MAX_NULLS).default(999).describe('null watermarks M drawn at verification (999: p can reach 1e-3)'),
  ...DEFENSE_SEED_ALPHA,
});

/** Creates the data-watermark defense; every option is validated by its declaration, before any work. */
export const dataWatermark = defineDefense({
  id: 'data-watermark',
  description: "plants one random character sequence into many completions; ranks the returned model's loss on it among never-planted sequences (exact rank test)",
  citation: 'Wei, Wang, Jia, "Proving membership in LLM pretraining data via data watermarks" (ACL 2024, arXiv 2402.10892); deviations: defenses/data-watermark/README.md',
  access: ['logprobs'],
  options: dataWatermarkOptions,
  create: createDataWatermark,
});

/** Options of the data-watermark defense as written (all optional). */
export type DataWatermarkOptions = OptionsInput<typeof dataWatermark>;

function createDataWatermark(options: z.output<typeof dataWatermarkOptions>): DataWatermarkDefense {
  const { rate, length, alphabet, placement, nulls } = options;

  return {
    id: 'data-watermark',
    access: ['logprobs'],

    async plant(rows: readonly Row[], ctx: UserContext) {
      if (rows.length === 0) throw new ConfigError('data-watermark: cannot plant into an empty dataset');
      const seed = options.seed ?? hex64(ctx.rng);
      const watermark = drawWatermark(new Rng(`data-watermark|watermark|${seed}`), alphabet, length);
      // The null seed is a one-way function of the seed and a separate stream from the watermark's.
      const nullSeed = createHash('sha256').update(`data-watermark|null-seed|${seed}`).digest('hex').slice(0, 32);
      const count = Math.round(rate * rows.length);
      // As the scenario preflight reads `rate` (src/runner/expand.ts): a rate that rounds to no row is refused.
      if (count < 1) throw new ConfigError(`data-watermark: option 'rate' ${rate} of ${rows.length} rows watermarks no row; expected at least ${(1 / rows.length).toPrecision(2)}`);
      const chosen = new Rng(`data-watermark|rows|${seed}`).sampleIndices(rows.length, count).sort((a, b) => a - b);
      const where = new Rng(`data-watermark|placement|${seed}`);
      const marked = new Set(chosen);
      const out = rows.map((r, i) => (marked.has(i) ? { prompt: r.prompt, completion: insertWatermark(r.completion, watermark, placement, where) } : { prompt: r.prompt, completion: r.completion }));
      const secret: DataWatermarkSecret = { version: 1, defense: 'data-watermark', seed, watermark, nullSeed, nulls, alphabet, length, placement, rows: chosen };
      return { rows: out, secret };
    },

    backdoorMask(secret, plantedRowCount) {
      const mask = new Array<boolean>(plantedRowCount).fill(false);
      for (const r of secret.rows) if (r < plantedRowCount) mask[r] = true;
      return mask;
    },

    // Ground truth: a trained row is a watermark row while its completion still carries the watermark.
    backdoorMarkers(secret, plantedRowCount) {
      const out = new Array<BackdoorMarker | undefined>(plantedRowCount).fill(undefined);
      for (const r of secret.rows) if (r < plantedRowCount) out[r] = { trigger: '', signature: secret.watermark };
      return out;
    },

    async verify(model, rawSecret, { alpha }): Promise<Verdict> {
      const secret = checkSecret(rawSecret);
      const nullTexts = nullWatermarks(secret);
      const [observed, ...nullLosses] = await watermarkLosses(model, [secret.watermark, ...nullTexts]);
      const { p, atOrBelow } = rankPValue(observed!, nullLosses);
      const z = zTest(observed!, nullLosses);
      const log10p = Math.log10(p);
      // Generic Verdict mapping (src/types.ts): one probe (the watermark), k = 1 when it ranked strictly first.
      return {
        defense: 'data-watermark',
        verified: p <= alpha, // p is a ratio of small integers: compared exactly, not in log space
        log10p,
        alpha,
        nullMode: 'rank',
        k: atOrBelow === 0 ? 1 : 0,
        n: 1,
        containsCount: 0,
        perBackdoor: [],
        queries: nullTexts.length + 1,
        // Records refuse NaN (src/records/finite.ts: the cell would fail): an unscoreable watermark reads as an
        // infinite loss (recorded as +MAX_VALUE; no evidence, as its p = 1 says), and an undefined z is left out.
        statistic: {
          name: 'watermark-loss-rank',
          value: Number.isNaN(observed!) ? Infinity : observed!,
          detail: { nulls: nullLosses.length, nullsAtOrBelow: atOrBelow, ...(Number.isFinite(z.z) && Number.isFinite(z.log10p) ? { zScore: z.z, zLog10p: z.log10p } : {}) },
        },
      };
    },
  };
}
