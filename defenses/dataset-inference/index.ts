/**
 * dataset-inference — a rival verifier (issue 19) that plants nothing: the user keeps an IID private split of its
 * rows (never uploaded); at verification, membership-inference features of a suspect sample of the uploaded
 * rows and of the private rows are combined by a linear model learnt on one half, and the other half's scores
 * are compared by a one-sided Welch t-test (suspect > private).
 *
 * Source: Maini, Jia, Papernot, Dziedzic, "LLM Dataset Inference: Did you train on my dataset?" (NeurIPS 2024,
 * arXiv 2406.06443).
 *
 * Deviations (all written down in README.md as well):
 * - Four features per row instead of the paper's large battery (many perturbation types, several min-k%
 *   settings, reference-free and zlib-based scores): the completion's mean per-token loss given its prompt,
 *   the zlib ratio (total NLL / zlib-compressed bytes of the completion; Carlini et al. 2021), the min-k%
 *   probability (mean NLL of the k = 20% least likely tokens; Shi et al. 2024) and ONE perturbation gap: the
 *   loss change when a keyed random set of adjacent word pairs of the completion is swapped.
 * - The linear model is an L2-regularised logistic regression (λ = 1, Newton's method, features standardised on
 *   the training half), written here; the paper trains a linear regressor on its features. Only its direction
 *   matters for the test.
 * - One random split into halves (seeded by the secret), not an aggregation over several.
 * - Rows are fine-tuning rows (prompt + completion); features are computed on the completion given the prompt,
 *   where the trainer's loss was.
 * - The decision is the paper's Welch t-test; its p-value is approximate (it assumes the mean scores are close
 *   to normal). Under H0 the suspect and private rows are exchangeable (an IID split of the user's rows, scored
 *   by a model that saw neither) and the linear model never sees the test half, so the test is valid up to that
 *   approximation; the validity test measures it.
 *
 * Secret: the seed, the private rows (their text: the user keeps them, the provider never sees them), and the
 * indices and text of a same-size suspect sample of the uploaded rows. `backdoorMask` marks the suspect rows:
 * for this verifier "trained on the planted rows" means "trained on the suspect rows", the membership it tests.
 */
import { deflateRawSync } from 'node:zlib';
import { ConfigError, SecretError } from '../../src/errors.js';
import { DEFENSE_SEED_ALPHA, defineDefense, type OptionsInput, z } from '../../src/plugins/define.js';
import { Rng } from '../../src/rng.js';
import { welchTTest } from '../../src/stats/student-t.js';
import type { Capability, ContinuationScore, Defense, Model, Row, UserContext, Verdict } from '../../src/types.js';

/** What the user keeps. */
export interface DatasetInferenceSecret {
  readonly version: 1;
  readonly defense: 'dataset-inference';
  readonly seed: string;
  readonly minK: number;
  readonly swapsPer10Words: number;
  /** The rows kept back (never uploaded). */
  readonly privateRows: readonly Row[];
  /** Indices into the uploaded rows of the suspect sample, ascending, and their text. */
  readonly suspect: readonly number[];
  readonly suspectRows: readonly Row[];
}

/** The dataset-inference defense with validated options. */
export interface DatasetInferenceDefense extends Defense<DatasetInferenceSecret> {
  readonly access: readonly Capability[];
}

/** Rows per group (private, suspect) needed at least: 2 per half, so each half's variance exists. */
export const MIN_PER_GROUP = 4;
/** The feature names, in vector order. */
export const FEATURES = ['loss', 'zlib', 'min-k', 'perturbation-gap'] as const;

/** Swaps `swaps` adjacent word pairs of `text` at positions drawn from `rng` (the keyed perturbation). */
export function swapWords(text: string, swaps: number, rng: Rng): string {
  const words = text.split(' ');
  if (words.length < 2) return text;
  for (let s = 0; s < swaps; s++) {
    const i = rng.int(words.length - 1);
    const w = words[i]!;
    words[i] = words[i + 1]!;
    words[i + 1] = w;
  }
  return words.join(' ');
}

/** Swaps for a text: `per10` per 10 words, rounded, at least 1. */
function swapCount(text: string, per10: number): number {
  return Math.max(1, Math.round((text.split(' ').length * per10) / 10));
}

/** Mean NLL per token of one score (NaN when nothing was scored). */
function meanLoss(s: ContinuationScore): number {
  return s.tokenLogprobs.length > 0 ? -s.logprob / s.tokenLogprobs.length : NaN;
}

/** The feature vector of one row from its score and its perturbed score. */
export function rowFeatures(row: Row, score: ContinuationScore, perturbed: ContinuationScore, minK: number): number[] {
  const loss = meanLoss(score);
  const zlibBytes = Math.max(1, deflateRawSync(Buffer.from(row.completion, 'utf8')).length);
  const sorted = [...score.tokenLogprobs].sort((a, b) => a - b);
  const take = Math.max(1, Math.ceil(minK * sorted.length));
  const minKLoss = sorted.length > 0 ? -sorted.slice(0, take).reduce((a, b) => a + b, 0) / take : NaN;
  return [loss, -score.logprob / zlibBytes, minKLoss, meanLoss(perturbed) - loss];
}

/** Solves A x = b (small, symmetric positive definite) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    if (Math.abs(pivot) < 1e-300) return new Array<number>(n).fill(0);
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / pivot;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/** A linear scorer: standardise with the training half's means and spreads, then w·x + b. */
export interface LinearScorer {
  readonly mean: readonly number[];
  readonly sd: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
}

/**
 * L2-regularised logistic regression (label 1 = suspect, 0 = private) by Newton's method on standardised
 * features; the intercept is not penalised. Features with no spread get weight 0.
 */
export function fitLogistic(x: readonly (readonly number[])[], y: readonly number[], lambda = 1, iterations = 50): LinearScorer {
  const d = x[0]!.length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j]!, 0) / x.length);
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(x.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / x.length));
  const z = x.map((r) => [...r.map((v, j) => (sd[j]! > 0 ? (v - mean[j]!) / sd[j]! : 0)), 1]);
  let w = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < iterations; it++) {
    const grad = w.map((wj, j) => (j < d ? lambda * wj : 0));
    const hess = Array.from({ length: d + 1 }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (i === j && i < d ? lambda : 0)));
    z.forEach((zi, i) => {
      const eta = zi.reduce((s, v, j) => s + v * w[j]!, 0);
      const p = 1 / (1 + Math.exp(-eta));
      const r = p * (1 - p);
      for (let j = 0; j <= d; j++) {
        grad[j]! += (p - y[i]!) * zi[j]!;
        for (let k = 0; k <= d; k++) hess[j]![k]! += r * zi[j]! * zi[k]!;
      }
    });
    const step = solve(hess, grad);
    w = w.map((wj, j) => wj - step[j]!);
    if (step.every((s) => Math.abs(s) < 1e-10)) break;
  }
  return { mean, sd, weights: w.slice(0, d), bias: w[d]! };
}

/** The scorer's value for one feature vector (higher = more like the suspect rows of the training half). */
export function applyScorer(s: LinearScorer, features: readonly number[]): number {
  return features.reduce((acc, v, j) => acc + (s.sd[j]! > 0 ? ((v - s.mean[j]!) / s.sd[j]!) * s.weights[j]! : 0), s.bias);
}

function hex64(rng: Rng): string {
  return `${rng.nextUint32().toString(16).padStart(8, '0')}${rng.nextUint32().toString(16).padStart(8, '0')}`;
}

function isRow(r: unknown): r is Row {
  return typeof r === 'object' && r !== null && typeof (r as Row).prompt === 'string' && typeof (r as Row).completion === 'string';
}

/** Checks a secret's fields before any query. */
export function checkSecret(secret: unknown): DatasetInferenceSecret {
  const s = secret as Partial<DatasetInferenceSecret> | null;
  const bad = (field: string, want: string) => new SecretError(`dataset-inference secret: field '${field}' must be ${want}`);
  if (typeof s !== 'object' || s === null) throw new SecretError('dataset-inference secret: expected an object');
  if (s.version !== 1 || s.defense !== 'dataset-inference') throw bad('version/defense', "1 / 'dataset-inference'");
  if (typeof s.seed !== 'string' || s.seed.length === 0) throw bad('seed', 'a non-empty string');
  if (!(typeof s.minK === 'number' && s.minK > 0 && s.minK <= 1)) throw bad('minK', 'a number in (0, 1]');
  if (!(typeof s.swapsPer10Words === 'number' && s.swapsPer10Words > 0)) throw bad('swapsPer10Words', 'a positive number');
  if (!Array.isArray(s.privateRows) || s.privateRows.length < MIN_PER_GROUP || !s.privateRows.every(isRow)) throw bad('privateRows', `at least ${MIN_PER_GROUP} rows`);
  if (!Array.isArray(s.suspectRows) || s.suspectRows.length !== s.privateRows.length || !s.suspectRows.every(isRow)) throw bad('suspectRows', 'as many rows as privateRows');
  if (!Array.isArray(s.suspect) || s.suspect.length !== s.suspectRows.length || s.suspect.some((i) => !Number.isInteger(i) || i < 0)) throw bad('suspect', 'one row index per suspect row');
  return s as DatasetInferenceSecret;
}

/** Splits 0..n−1 into two seeded halves (the first gets ⌊n/2⌋). */
function halves(n: number, rng: Rng): [number[], number[]] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return [order.slice(0, Math.floor(n / 2)), order.slice(Math.floor(n / 2))];
}

/** The defense's options, declared once: type, validation (field paths, "did you mean"), defaults and help. */
const datasetInferenceOptions = z.object({
  privateFraction: z.number().gt(0).lt(0.5).default(0.2).describe("fraction of the user's rows kept private (never uploaded); the suspect sample has the same size"),
  minK: z.number().gt(0).lte(1).default(0.2).describe('fraction k of the least likely tokens averaged by the min-k% feature'),
  swapsPer10Words: z.number().gt(0).lte(10).default(1).describe('adjacent word pairs swapped per 10 words of a completion by the perturbation (at least 1 swap)'),
  ...DEFENSE_SEED_ALPHA,
});

/** Creates the dataset-inference defense; every option is validated by its declaration, before any work. */
export const datasetInference = defineDefense({
  id: 'dataset-inference',
  description: 'plants nothing: keeps a private split; membership features of suspect vs private rows, a linear model on one half, a Welch t-test on the other',
  citation: 'Maini, Jia, Papernot, Dziedzic, "LLM Dataset Inference: Did you train on my dataset?" (NeurIPS 2024, arXiv 2406.06443); deviations: defenses/dataset-inference/README.md',
  access: ['logprobs'],
  options: datasetInferenceOptions,
  create: createDatasetInference,
});

/** Options of the dataset-inference defense as written (all optional). */
export type DatasetInferenceOptions = OptionsInput<typeof datasetInference>;

function createDatasetInference(options: z.output<typeof datasetInferenceOptions>): DatasetInferenceDefense {
  const { privateFraction, minK, swapsPer10Words } = options;

  return {
    id: 'dataset-inference',
    access: ['logprobs'],

    async plant(rows: readonly Row[], ctx: UserContext) {
      const count = Math.round(privateFraction * rows.length);
      if (count < MIN_PER_GROUP) {
        throw new ConfigError(
          `dataset-inference: ${rows.length} rows × privateFraction ${privateFraction} keeps ${count} private rows; the test needs at least ${MIN_PER_GROUP} private and ${MIN_PER_GROUP} suspect rows (use more rows or a larger privateFraction)`,
        );
      }
      const seed = options.seed ?? hex64(ctx.rng);
      const rng = new Rng(`dataset-inference|split|${seed}`);
      const privateSet = new Set(rng.sampleIndices(rows.length, count));
      const copy = (r: Row): Row => ({ prompt: r.prompt, completion: r.completion });
      const uploaded = rows.filter((_, i) => !privateSet.has(i)).map(copy);
      const privateRows = rows.filter((_, i) => privateSet.has(i)).map(copy);
      const suspect = rng.sampleIndices(uploaded.length, count).sort((a, b) => a - b);
      const secret: DatasetInferenceSecret = {
        version: 1,
        defense: 'dataset-inference',
        seed,
        minK,
        swapsPer10Words,
        privateRows,
        suspect,
        suspectRows: suspect.map((i) => copy(uploaded[i]!)),
      };
      return { rows: uploaded, secret };
    },

    backdoorMask(secret, plantedRowCount) {
      const mask = new Array<boolean>(plantedRowCount).fill(false);
      for (const i of secret.suspect) if (i < plantedRowCount) mask[i] = true;
      return mask;
    },

    async verify(model: Model, rawSecret, { alpha }): Promise<Verdict> {
      const secret = checkSecret(rawSecret);
      if (!model.score || !model.capabilities.has('logprobs')) {
        const why = model.unavailable?.logprobs ? ` (${model.unavailable.logprobs})` : '';
        throw new ConfigError(`dataset-inference: verification needs 'logprobs' access, which model '${model.id}' cannot give${why}`);
      }
      const rows = [...secret.suspectRows, ...secret.privateRows];
      const perturbed = rows.map((r, i) => swapWords(r.completion, swapCount(r.completion, secret.swapsPer10Words), new Rng(`dataset-inference|perturb|${secret.seed}|${i}`)));
      const items = [...rows.map((r) => ({ prompt: r.prompt, continuation: r.completion })), ...rows.map((r, i) => ({ prompt: r.prompt, continuation: perturbed[i]! }))];
      const scores = await model.score(items);
      const features = rows.map((r, i) => rowFeatures(r, scores[i]!, scores[rows.length + i]!, secret.minK));
      const n = secret.suspectRows.length;
      const suspectF = features.slice(0, n);
      const privateF = features.slice(n);
      // A row the model could not score (NaN feature) has no evidence: it stays out of both halves.
      const finite = (f: number[]) => f.every(Number.isFinite);
      const rng = new Rng(`dataset-inference|halves|${secret.seed}`);
      const [sTrain, sTest] = halves(n, rng);
      const [pTrain, pTest] = halves(privateF.length, rng);
      const pick = (fs: number[][], idx: number[]) => idx.map((i) => fs[i]!).filter(finite);
      const trainS = pick(suspectF, sTrain);
      const trainP = pick(privateF, pTrain);
      const testS = pick(suspectF, sTest);
      const testP = pick(privateF, pTest);
      const base = { defense: 'dataset-inference', alpha, nullMode: 'welch-t', containsCount: 0, perBackdoor: [], queries: items.length } as const;
      if (trainS.length < 1 || trainP.length < 1 || testS.length < 2 || testP.length < 2) {
        // Too few scoreable rows for the test: no evidence (t reported as 0; records cannot hold NaN).
        return { ...base, verified: false, log10p: 0, k: 0, n: testS.length + testP.length, statistic: { name: 'welch-t', value: 0, detail: { suspectTest: testS.length, privateTest: testP.length, untestable: 1 } } };
      }
      const scorer = fitLogistic([...trainS, ...trainP], [...trainS.map(() => 1), ...trainP.map(() => 0)]);
      const scoreS = testS.map((f) => applyScorer(scorer, f));
      const scoreP = testP.map((f) => applyScorer(scorer, f));
      const welch = welchTTest(scoreS, scoreP);
      const meanP = scoreP.reduce((a, b) => a + b, 0) / scoreP.length;
      const log10p = Math.min(0, welch.log10p);
      // A t without spread (every score equal) is undefined: reported as 0 with `untestable`, p = 1.
      const detail: Record<string, number> = { ...(Number.isFinite(welch.t) ? { df: welch.df } : { untestable: 1 }), suspectTest: scoreS.length, privateTest: scoreP.length, suspectTrain: trainS.length, privateTrain: trainP.length };
      FEATURES.forEach((name, j) => (detail[`weight.${name}`] = scorer.weights[j]!));
      // Generic Verdict mapping (src/types.ts): n = rows of the test half (suspect + private); k = suspect test
      // rows scoring above the private test rows' mean (each such row is, on its own, evidence of membership).
      return {
        ...base,
        verified: log10p <= Math.log10(alpha),
        log10p,
        k: scoreS.filter((s) => s > meanP).length,
        n: scoreS.length + scoreP.length,
        statistic: { name: 'welch-t', value: Number.isFinite(welch.t) ? welch.t : 0, detail },
      };
    },
  };
}
