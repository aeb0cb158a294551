/**
 * The validity check shared by the keyed-content generators' tests (template, in-place, reorder): plant many fresh
 * secrets, verify each against a model that never saw it under the `generator` and `empirical` nulls, and count
 * how often p ≤ α. A valid null keeps that rate ≤ α + 3σ; the count of hits shows the model does hit, so the
 * check is not vacuous.
 */
import { expect } from 'vitest';
import { vtune } from '../../../../defenses/vtune/index.js';
import type { Model, Row } from '../../../../src/types.js';
import { userCtx } from '../../fixtures.js';

const MODES = ['generator', 'empirical'] as const;

/** A test double that knows the data, not the secret: answers each query (a host prompt) with that row's original answer. */
export function dataKnower(rows: readonly Row[]): Model {
  return {
    id: 'double:data-knower',
    capabilities: new Set(['generate']),
    async generate(prompts) {
      return prompts.map((q) => rows.find((r) => r.prompt === q)?.completion ?? '');
    },
  };
}

/**
 * Plants `secrets` secrets on `rows` with the vtune options `options(s)` (which must set a seed of its own per s),
 * verifies each against `model`, and asserts P(p ≤ α) ≤ α + 3σ at α 0.01, 0.05, 0.2 under both nulls.
 * Returns the hits counted under the `generator` null, for the caller to check that the model does hit.
 */
export async function expectValidNulls(model: Model, rows: readonly Row[], options: (s: number) => Record<string, unknown>, secrets = 600): Promise<number> {
  const alphas = [0.01, 0.05, 0.2];
  const rejected = { generator: alphas.map(() => 0), empirical: alphas.map(() => 0) };
  let hits = 0;
  for (let s = 0; s < secrets; s++) {
    const planted = await vtune(options(s)).plant(rows, userCtx(`valid-${s}`));
    for (const mode of MODES) {
      const v = (await vtune({ nullMode: mode }).verify(model, planted.secret, { alpha: 0.5, ctx: userCtx('v') })) as { log10p: number; k: number };
      if (mode === 'generator') hits += v.k;
      alphas.forEach((a, i) => (rejected[mode][i]! += v.log10p <= Math.log10(a) + 1e-12 ? 1 : 0));
    }
  }
  for (const mode of MODES) {
    alphas.forEach((a, i) => expect(rejected[mode][i]! / secrets).toBeLessThanOrEqual(a + 3 * Math.sqrt((a * (1 - a)) / secrets)));
  }
  return hits;
}
