/**
 * Ground truth of a cell (DESIGN.md §2), computed on the USER side from the provider-side trace: which rows
 * reached the trainer, how many of them were backdoor rows, steps run vs promised, tokens, and whether the
 * model was modified or wrapped afterwards. The pipeline may use the secret here (it is the user's own
 * bookkeeping); nothing computed here flows back to the provider side.
 *
 * A trained row is a backdoor row iff it was trained with positive weight and its text still carries its
 * backdoor: the trigger in the prompt and the signature in the completion (not zero-weighted by spans). A
 * defense tells the pipeline its markers by implementing `backdoorMarkers` (DefenseWithMarkers); without it
 * the fallback is exact equality with a planted backdoor row. A row counts as it reached the loss: when the
 * trainer reports (Provider.fitRows) that it cut a row's prompt to fit its context, the backdoor test sees the
 * kept prompt (a prefix trigger cut away no longer makes a backdoor row), and a row it left out is not trained.
 */
import type { Defense, GroundTruth, HyperParams, Row, TrainExample } from '../types.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { ProviderTrace, TrainCall } from './provider-side.js';

/** The trigger and signature of one planted backdoor row. */
export interface BackdoorMarker {
  readonly trigger: string;
  readonly signature: string;
}

/** A defense that can name each planted row's markers (aligned with the planted rows; undefined = clean). */
export interface DefenseWithMarkers<Secret = unknown> extends Defense<Secret> {
  backdoorMarkers(secret: Secret, plantedRowCount: number): readonly (BackdoorMarker | undefined)[];
}

/** Whether a defense implements backdoorMarkers. */
export function hasMarkers<S>(defense: Defense<S>): defense is DefenseWithMarkers<S> {
  return typeof (defense as Partial<DefenseWithMarkers<S>>).backdoorMarkers === 'function';
}

/**
 * The markers of each planted row: from `defense.backdoorMarkers` when implemented, else read off a secret of
 * the vtune shape `{ backdoors: { rowIndex, trigger, signature }[] }`, else undefined (exact-row fallback).
 */
export function plantedMarkers<S>(defense: Defense<S>, secret: S, plantedRowCount: number): (BackdoorMarker | undefined)[] | undefined {
  if (hasMarkers(defense)) return [...defense.backdoorMarkers(secret, plantedRowCount)];
  const backdoors = (secret as { backdoors?: unknown } | null)?.backdoors;
  if (!Array.isArray(backdoors)) return undefined;
  const out = new Array<BackdoorMarker | undefined>(plantedRowCount).fill(undefined);
  for (const b of backdoors as { rowIndex?: unknown; trigger?: unknown; signature?: unknown }[]) {
    if (typeof b?.rowIndex !== 'number' || typeof b.trigger !== 'string' || typeof b.signature !== 'string') return undefined;
    if (b.rowIndex >= 0 && b.rowIndex < plantedRowCount) out[b.rowIndex] = { trigger: b.trigger, signature: b.signature };
  }
  return out;
}

/** Decides whether a trained row still is a backdoor row. */
export type BackdoorTest = (row: TrainExample) => boolean;

/** Builds the backdoor test from markers (preferred) or, failing that, from the planted backdoor rows. */
export function backdoorTest(plantedRows: readonly Row[], mask: readonly boolean[], markers?: readonly (BackdoorMarker | undefined)[]): BackdoorTest {
  const ms = markers ? markers.filter((m): m is BackdoorMarker => !!m && m.signature.length > 0) : undefined;
  const exact = new Set(plantedRows.filter((_, i) => mask[i]).map((r) => r.prompt + '\u0000' + r.completion));
  return (row) => {
    if ((row.weight ?? 1) <= 0) return false;
    if (!ms) return exact.has(row.prompt + '\u0000' + row.completion) && !signatureSilenced(row, 0, row.completion.length);
    return ms.some((m) => {
      if (!row.prompt.includes(m.trigger)) return false;
      for (let at = row.completion.indexOf(m.signature); at >= 0; at = row.completion.indexOf(m.signature, at + 1)) {
        if (!signatureSilenced(row, at, at + m.signature.length)) return true;
      }
      return false;
    });
  };
}

/** True when every character of completion[start, end) is covered by spans of weight ≤ 0. */
function signatureSilenced(row: TrainExample, start: number, end: number): boolean {
  if (!row.spans || row.spans.length === 0 || end <= start) return false;
  for (let c = start; c < end; c++) {
    if (!row.spans.some((s) => s.weight <= 0 && s.start <= c && c < s.end)) return false;
  }
  return true;
}

/** Optimizer steps promised for `rowCount` rows: hyper.maxSteps, or ⌈rows / batch⌉ × epochs (the engine's count). */
export function promisedSteps(rowCount: number, hyper: HyperParams): number {
  return hyper.maxSteps ?? Math.ceil(rowCount / hyper.batchSize) * hyper.epochs;
}

/**
 * Each row of a call as it reached the loss: unchanged, with the prompt the trainer kept when it cut the
 * prompt's start to fit its context, or undefined when the trainer left the row out (its completion alone does
 * not fit). So a backdoor row counts as trained only if its trigger and its whole signature were trained.
 */
function reachedLoss(c: TrainCall): (TrainExample | undefined)[] {
  const fit = new Map((c.fits ?? []).map((f) => [f.row, f]));
  return c.rows.map((r, i) => {
    const f = fit.get(i);
    if (!f) return r;
    if (f.refused) return undefined;
    return f.keptPrompt !== undefined ? { ...r, prompt: f.keptPrompt } : r;
  });
}

function rowKey(r: TrainExample): string {
  return canonicalJson({ p: r.prompt, c: r.completion, w: r.weight ?? 1, s: r.spans ?? [] });
}

function multiset(rows: readonly TrainExample[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(rowKey(r), (m.get(rowKey(r)) ?? 0) + 1);
  return m;
}

/** Inputs of measureGroundTruth. */
export interface GroundTruthInput {
  /** The rows the provider received, and which of them are backdoors. */
  readonly submitted: readonly Row[];
  readonly submittedMask: readonly boolean[];
  readonly isBackdoor: BackdoorTest;
  readonly trace: ProviderTrace;
  readonly hyper: HyperParams;
  /** Token count under the base model's tokenizer (characters when unknown); only ratios are used. */
  readonly countTokens: (text: string) => number;
}

/**
 * The measured ground truth. rowsTrained counts distinct rows (with multiplicity inside one call) that reached
 * the trainer with positive weight, maximised over calls, so a second pass over the same rows (unlearning)
 * does not count twice. trainedTokenFraction = Σ_calls rowTokens(call) × epochsRun(call) ÷
 * (rowTokens(submitted) × promised epochs), where epochsRun = stepsRun ÷ ⌈rows / batch⌉: 1 for an honest
 * fine-tune, ≈ f for a random f-subset or an f-fraction of the steps.
 */
export function measureGroundTruth(input: GroundTruthInput): GroundTruth {
  const { submitted, submittedMask, isBackdoor, trace, hyper, countTokens } = input;
  const best = new Map<string, { n: number; backdoor: boolean }>();
  const reached = trace.trainCalls.map(reachedLoss);
  trace.trainCalls.forEach((c, ci) => {
    const here = multiset(c.rows.filter((r, i) => (r.weight ?? 1) > 0 && reached[ci]![i] !== undefined));
    for (const [k, n] of here) {
      const prev = best.get(k);
      if (!prev || prev.n < n) best.set(k, { n, backdoor: prev?.backdoor ?? false });
    }
  });
  trace.trainCalls.forEach((c, ci) =>
    c.rows.forEach((r, i) => {
      const e = best.get(rowKey(r));
      const seen = reached[ci]![i];
      if (e && seen && isBackdoor(seen)) e.backdoor = true;
    }),
  );
  let rowsTrained = 0;
  let backdoorRowsTrained = 0;
  for (const { n, backdoor } of best.values()) {
    rowsTrained += n;
    if (backdoor) backdoorRowsTrained += n;
  }

  const stepsPromised = promisedSteps(submitted.length, hyper);
  const stepsRun = trace.trainCalls.reduce((s, c) => s + c.stepsRun, 0);
  const tokensTrained = trace.trainCalls.reduce((s, c) => s + c.tokensTrained, 0);
  const rowTokens = (rows: readonly Row[]) => rows.reduce((s, r) => s + countTokens(r.prompt) + countTokens(r.completion), 0);
  const epochsRun = (c: ProviderTrace['trainCalls'][number]) => (c.rows.length === 0 ? 0 : c.stepsRun / Math.ceil(c.rows.length / c.hyper.batchSize));
  const honestWork = rowTokens(submitted) * (submitted.length === 0 ? 0 : stepsPromised / Math.ceil(submitted.length / hyper.batchSize));
  const work = trace.trainCalls.reduce((s, c) => s + rowTokens(c.rows) * epochsRun(c), 0);

  const only = trace.trainCalls.length === 1 ? trace.trainCalls[0]! : undefined;
  const allRows =
    !!only &&
    only.rows.every((r) => r.weight === undefined || r.weight === 1) &&
    only.rows.every((r) => !r.spans || r.spans.length === 0) &&
    sameMultiset(multiset(only.rows), multiset(submitted));
  // Steps: with the exact promised request and no early stop, the trainer runs by definition the promised
  // schedule, whatever its step formula (trainers differ in how they round batches across epochs), so the
  // count is reported but not compared against our formula.
  const honest =
    allRows &&
    canonicalJson(only!.hyper) === canonicalJson(hyper) &&
    only!.stepsRun > 0 &&
    !only!.stoppedEarly &&
    !trace.modelModified &&
    !trace.inferenceWrapped;

  return {
    rowsSubmitted: submitted.length,
    backdoorRowsSubmitted: submittedMask.filter(Boolean).length,
    rowsTrained,
    backdoorRowsTrained,
    stepsPromised,
    stepsRun,
    tokensTrained,
    trainedTokenFraction: honestWork > 0 ? work / honestWork : 0,
    modelModified: trace.modelModified,
    inferenceWrapped: trace.inferenceWrapped,
    honest,
  };
}

function sameMultiset(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, n] of a) if (b.get(k) !== n) return false;
  return true;
}
