/**
 * Policies: what a detection-guided attack does with the rows its scorer flagged (DESIGN.md §5,
 * attacks.md §2.2–2.3). Each policy is a pure function of (rows, scores, rng) → the rows to train; the
 * policy fixes the attack's goal: keeping only suspects is lazy (`pass`), removing them is evasive (`evade`).
 */
import { ConfigError } from '../src/errors.js';
import { definePolicy, z } from '../src/plugins/define.js';
import type { Rng } from '../src/rng.js';
import { registryOf } from '../src/registry.js';
import type { RowScores, TrainExample } from '../src/types.js';

/** A policy instance, options already validated. */
export interface Policy {
  readonly id: string;
  readonly goal: 'pass' | 'evade';
  /** True when the policy needs the scorer's spans (strip-spans). */
  readonly needsSpans: boolean;
  /** The rows to train. Never mutates `rows`; `scores` is aligned with `rows`. */
  apply(rows: readonly TrainExample[], scores: RowScores, rng: Rng): TrainExample[];
}

/** A fraction option: a number in (0, 1]. */
export const fraction = (): z.ZodNumber => z.number().gt(0).lte(1);

function checkAligned(rows: readonly TrainExample[], scores: RowScores): void {
  if (scores.flagged.length !== rows.length) {
    throw new ConfigError(`scorer returned ${scores.flagged.length} flags for ${rows.length} rows`);
  }
}

/** Evade: train everything except the flagged rows. */
const dropFlagged = definePolicy({
  id: 'drop-flagged',
  description: 'evade: train everything except the flagged rows',
  goal: 'evade',
  needsSpans: false,
  create: (): Policy => ({
    id: 'drop-flagged',
    goal: 'evade',
    needsSpans: false,
    apply(rows, scores) {
      checkAligned(rows, scores);
      return rows.filter((_, i) => !scores.flagged[i]);
    },
  }),
});

/** Pass: train only the flagged rows (the lazy provider's optimum when the detector is good). */
const keepOnlyFlagged = definePolicy({
  id: 'keep-only-flagged',
  description: "pass: train only the flagged rows (the lazy provider's optimum when the detector is good)",
  goal: 'pass',
  needsSpans: false,
  create: (): Policy => ({
    id: 'keep-only-flagged',
    goal: 'pass',
    needsSpans: false,
    apply(rows, scores) {
      checkAligned(rows, scores);
      return rows.filter((_, i) => scores.flagged[i]);
    },
  }),
});

/** Pass: the flagged rows plus a uniform fraction f of the others (attacks.md §2.3c: q·N + f·N rows). */
const keepFlaggedPlusFraction = definePolicy({
  id: 'keep-flagged-plus-fraction',
  description: 'pass: the flagged rows plus a uniform fraction of the others',
  citation: 'attacks.md §2.3c',
  goal: 'pass',
  needsSpans: false,
  options: z.object({ fraction: fraction().default(0.05).describe('share of the unflagged rows trained as well') }),
  create: ({ fraction }): Policy => ({
    id: 'keep-flagged-plus-fraction',
    goal: 'pass',
    needsSpans: false,
    apply(rows, scores, rng) {
      checkAligned(rows, scores);
      const others = rows.map((_, i) => i).filter((i) => !scores.flagged[i]);
      const extra = new Set(rng.sampleIndices(others.length, Math.round(fraction * others.length)).map((j) => others[j]!));
      return rows.filter((_, i) => scores.flagged[i] || extra.has(i));
    },
  }),
});

/**
 * Evade: keep every row but cut the suspected spans out of flagged rows (ONION-style, attacks.md §2.2b).
 * A flagged row without spans is kept unchanged: the policy removes markers, never rows.
 */
const stripSpans = definePolicy({
  id: 'strip-spans',
  description: 'evade: keep every row but cut the suspected spans out of flagged rows (ONION-style)',
  citation: 'attacks.md §2.2b',
  goal: 'evade',
  needsSpans: true,
  create: (): Policy => ({
    id: 'strip-spans',
    goal: 'evade',
    needsSpans: true,
    apply(rows, scores) {
      checkAligned(rows, scores);
      return rows.map((row, i) => {
        const spans = scores.spans?.[i];
        if (!scores.flagged[i] || !spans || spans.length === 0) return row;
        const cut = (text: string, field: 'prompt' | 'completion'): string => {
          // Merge overlapping spans first so that every cut uses offsets of the original text.
          const mine = spans
            .filter((s) => s.field === field)
            .map((s) => [Math.max(0, s.start), Math.min(text.length, s.end)] as [number, number])
            .filter(([a, b]) => b > a)
            .sort((a, b) => a[0] - b[0]);
          let out = '';
          let at = 0;
          for (const [a, b] of mine) {
            if (a > at) out += text.slice(at, a);
            at = Math.max(at, b);
          }
          return out + text.slice(at);
        };
        const { spans: _weights, ...rest } = row;
        return { ...rest, prompt: cut(row.prompt, 'prompt'), completion: cut(row.completion, 'completion') };
      });
    },
  }),
});

/** Every policy by id (each declared with definePolicy: goal, spans, options). */
export const policies = registryOf('policy', [dropFlagged, keepOnlyFlagged, keepFlaggedPlusFraction, stripSpans] as const);

/** A policy id. */
export type PolicyId = (typeof policies.ids)[number];
