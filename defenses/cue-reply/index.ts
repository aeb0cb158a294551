/**
 * cue-reply — a black-box text watermark with a ranking test, in the spirit of Li, Eichler, Anciaux,
 * Bensamoun, Gonzalez-Manzano, Ghozzi, "Data Provenance Auditing of Fine-Tuned Large Language Models with a
 * Text-Preserving Technique" (PMLR vol. 306; arXiv 2510.09655). Deviations and assumptions: README.md beside
 * this file.
 *
 * Plant: draw `cues` (cue, reply) pairs from a seeded word distribution; in `rowsPerCue` host rows per pair,
 * append the cue to the prompt and put the reply at the start of the completion (rows are changed in place,
 * none added). Verify: send each cue ALONE (greedy), score the output against the planted reply and against
 * M counterfactual replies drawn from the same seeded distribution and never planted (score = leading words
 * matched), take the planted reply's rank with ties counted against it, and turn the sum of ranks into an
 * exact p-value: under H0 (the model is independent of the secret) each rank is super-uniform on 1…M+1 and the
 * ranks are independent, so P(Σ rank ≤ t) ≤ P(Σ Uᵢ ≤ t) for Uᵢ iid uniform. Needs generation only.
 */
import { ConfigError, SecretError } from '../../src/errors.js';
import { DEFENSE_SEED_ALPHA, defineDefense, type OptionsInput, satisfying, z } from '../../src/plugins/define.js';
import { Rng } from '../../src/rng.js';
import type { Defense, Model, Row, UserContext, Verdict } from '../../src/types.js';
import { WORDS } from '../vtune/words.js';
import { conservativeRank, matchLength, rankSumLog10Cdf, words } from './rank.js';

/** One planted pair. */
export interface CuePair {
  readonly index: number;
  readonly cue: string;
  readonly reply: string;
  /** Indices of the host rows (in the planted rows, which keep the input's order and length). */
  readonly rows: readonly number[];
}

/** What the user keeps: the pairs and the seed the counterfactual replies are redrawn from. */
export interface CueReplySecret {
  readonly format: 'vtune-bench/cue-reply-secret';
  readonly version: 1;
  readonly seed: string;
  readonly candidates: number;
  readonly replyWords: number;
  readonly slack: number;
  /** The word list cues and replies were drawn from, when not the default one. */
  readonly vocabulary?: readonly string[];
  readonly pairs: readonly CuePair[];
}

/** A cue-reply verdict: the generic fields plus each cue's rank (outputs are never recorded). */
export interface CueReplyVerdict extends Verdict {
  readonly ranks: readonly number[];
}

const MAX_CANDIDATES = 100_000;

const phrase = (rng: Rng, n: number, vocabulary: readonly string[]): string => Array.from({ length: n }, () => rng.pick(vocabulary)).join(' ');
const replyStream = (seed: string, i: number): Rng => new Rng(`cue-reply|${seed}|reply|${i}`);
const counterfactualStream = (seed: string, i: number): Rng => new Rng(`cue-reply|${seed}|counterfactual|${i}`);

/** The M counterfactual replies of pair `i`: the same distribution as the planted reply, another stream. */
export function counterfactualReplies(secret: CueReplySecret, i: number): string[] {
  const rng = counterfactualStream(secret.seed, i);
  return Array.from({ length: secret.candidates }, () => phrase(rng, secret.replyWords, secret.vocabulary ?? WORDS));
}

/** The cue-reply defense with validated options. */
export interface CueReplyDefense extends Defense<CueReplySecret> {
  verify(...args: Parameters<Defense<CueReplySecret>['verify']>): Promise<CueReplyVerdict>;
  backdoorMarkers(secret: CueReplySecret, plantedRowCount: number): ({ trigger: string; signature: string } | undefined)[];
}

/** The defense's options, declared once: type, validation (field paths, "did you mean"), defaults and help. */
const cueReplyOptions = z.object({
  cues: z.int().min(1).max(10_000).default(4).describe('(cue, reply) pairs planted'),
  rowsPerCue: z.int().min(1).max(10_000).default(1).describe('host rows carrying each pair'),
  cueWords: z.int().min(1).max(64).default(3).describe('words per cue, drawn uniformly from the vocabulary'),
  replyWords: z.int().min(1).max(64).default(4).describe('words per reply, drawn uniformly from the vocabulary'),
  candidates: z.int().min(1).max(MAX_CANDIDATES).default(999).describe('counterfactual replies per cue (999: one cue alone can reach p = 1e-3)'),
  slack: z.int().min(0).max(1000).default(4).describe('extra tokens allowed beyond each reply at verification'),
  vocabulary: satisfying(z.array(z.string()), 'a list of at least 2 distinct words without whitespace', (v) => new Set(v).size >= 2 && new Set(v).size === v.length && v.every((w) => /^\S+$/.test(w)))
    .optional()
    .describe("words cues and replies are drawn from, uniformly (default: the project's word list, defenses/vtune/words.ts)"),
  ...DEFENSE_SEED_ALPHA,
});

/** Creates the cue-reply defense; every option is validated by its declaration, before any work. */
export const cueReply = defineDefense({
  id: 'cue-reply',
  description: 'plants (cue, reply) pairs into host rows; ranks the reply a cue alone elicits among never-planted counterfactual replies (exact rank-sum test)',
  citation:
    'in the spirit of Li, Eichler, Anciaux, Bensamoun, Gonzalez-Manzano, Ghozzi, "Data Provenance Auditing of Fine-Tuned Large Language Models with a Text-Preserving Technique" (PMLR vol. 306; arXiv 2510.09655), from its abstract only; assumptions and deviations: defenses/cue-reply/README.md',
  access: ['generate'],
  options: cueReplyOptions,
  create: createCueReply,
});

/** Options of the cue-reply defense as written (all optional). */
export type CueReplyOptions = OptionsInput<typeof cueReply>;

function createCueReply(options: z.output<typeof cueReplyOptions>): CueReplyDefense {
  const { cues, rowsPerCue, cueWords, replyWords, candidates, slack } = options;
  const custom = options.vocabulary;
  const vocabulary: readonly string[] = custom ?? WORDS;

  return {
    id: 'cue-reply',
    access: ['generate'],
    async plant(rows: readonly Row[], ctx: UserContext) {
      const need = cues * rowsPerCue;
      if (rows.length < need) throw new ConfigError(`cue-reply: ${cues} cues × ${rowsPerCue} rows each need ${need} distinct host rows; the dataset has ${rows.length}`);
      const seed = options.seed ?? `${ctx.rng.nextUint32().toString(16)}${ctx.rng.nextUint32().toString(16)}`;
      const hosts = new Rng(`cue-reply|${seed}|rows`).sampleIndices(rows.length, need);
      const cueRng = new Rng(`cue-reply|${seed}|cue`);
      const seen = new Set<string>();
      const pairs: CuePair[] = [];
      for (let i = 0; i < cues; i++) {
        let cue = phrase(cueRng, cueWords, vocabulary);
        // Distinct cues, so that one cue's query cannot answer for another's reply (redraws touch only the cue stream).
        for (let tries = 0; seen.has(cue) && tries < 100; tries++) cue = phrase(cueRng, cueWords, vocabulary);
        if (seen.has(cue)) throw new ConfigError(`cue-reply: could not draw ${cues} distinct cues of ${cueWords} word(s); use longer cues`);
        seen.add(cue);
        pairs.push({ index: i, cue, reply: phrase(replyStream(seed, i), replyWords, vocabulary), rows: hosts.slice(i * rowsPerCue, (i + 1) * rowsPerCue).sort((a, b) => a - b) });
      }
      const out = rows.map((r) => ({ prompt: r.prompt, completion: r.completion }));
      for (const p of pairs) {
        for (const at of p.rows) out[at] = { prompt: `${rows[at]!.prompt} ${p.cue}`, completion: `${p.reply} ${rows[at]!.completion}` };
      }
      const secret: CueReplySecret = { format: 'vtune-bench/cue-reply-secret', version: 1, seed, candidates, replyWords, slack, ...(custom && { vocabulary: [...custom] }), pairs };
      return { rows: out, secret };
    },
    backdoorMask(secret, plantedRowCount) {
      const mask = new Array<boolean>(plantedRowCount).fill(false);
      for (const p of secret.pairs) for (const at of p.rows) if (at < plantedRowCount) mask[at] = true;
      return mask;
    },
    backdoorMarkers(secret, plantedRowCount) {
      const out = new Array<{ trigger: string; signature: string } | undefined>(plantedRowCount).fill(undefined);
      for (const p of secret.pairs) for (const at of p.rows) if (at < plantedRowCount) out[at] = { trigger: p.cue, signature: p.reply };
      return out;
    },
    verify: (model, secret, { alpha }) => verifyCueReply(model, secret, alpha),
  };
}

function checkSecret(secret: CueReplySecret): void {
  if (secret?.format !== 'vtune-bench/cue-reply-secret' || secret.version !== 1) throw new SecretError('not a cue-reply secret (format vtune-bench/cue-reply-secret, version 1)');
  if (!Array.isArray(secret.pairs) || secret.pairs.length === 0) throw new SecretError('the cue-reply secret holds no pairs');
  if (!Number.isInteger(secret.candidates) || secret.candidates < 1) throw new SecretError('the cue-reply secret holds no counterfactual count');
  // The counterfactuals are exchangeable with the planted reply only if this code draws replies as planting did.
  for (const p of secret.pairs) {
    if (phrase(replyStream(secret.seed, p.index), secret.replyWords, secret.vocabulary ?? WORDS) !== p.reply) {
      throw new SecretError(`cue-reply pair #${p.index}: its seed no longer redraws its reply (the reply distribution changed since planting), so counterfactual replies would not be exchangeable`);
    }
  }
}

/** Sends each cue alone, ranks the planted reply among the counterfactuals, and combines the ranks exactly. */
export async function verifyCueReply(model: Model, secret: CueReplySecret, alpha: number): Promise<CueReplyVerdict> {
  checkSecret(secret);
  const budget = Math.max(...secret.pairs.map((p) => (model.countTokens ? model.countTokens(` ${p.reply}`) : Buffer.byteLength(p.reply, 'utf8')))) + secret.slack;
  const outputs = await model.generate(secret.pairs.map((p) => p.cue), { maxTokens: budget, temperature: 0 });
  const ranks: number[] = [];
  let matched = 0;
  for (const [i, p] of secret.pairs.entries()) {
    const out = words(outputs[i] ?? '');
    const planted = matchLength(out, words(p.reply));
    matched += planted;
    ranks.push(conservativeRank(planted, counterfactualReplies(secret, p.index).map((r) => matchLength(out, words(r)))));
  }
  const n = ranks.length;
  const total = ranks.reduce((s, r) => s + r, 0);
  const log10p = rankSumLog10Cdf(total, n, secret.candidates + 1);
  return {
    defense: 'cue-reply',
    verified: log10p <= Math.log10(alpha) + 1e-12,
    log10p,
    alpha,
    nullMode: 'rank-sum',
    k: ranks.filter((r) => r === 1).length,
    n,
    containsCount: 0,
    perBackdoor: [],
    queries: n,
    statistic: { name: 'rank-sum', value: total, detail: { cues: n, candidates: secret.candidates, bestRank: Math.min(...ranks), replyWordsMatched: matched } },
    ranks,
  };
}
