/**
 * Contract checks shared by the rival verifiers' tests (issue 19: data-watermark, dataset-inference):
 * - pure planning: plant on deep-frozen rows never mutates them (a mutation throws);
 * - seeded: the same seed gives the same rows and secret, another seed another secret, and a seed drawn from
 *   the user context's stream is reproducible from that stream;
 * - the secret never reachable from the provider side: one real cell (runCell, the `honest` attack, the
 *   test-memorizer double as provider) with every hook argument recorded; walking everything the provider side
 *   received never reaches the secret object or any of its arrays, and no string it received contains any of
 *   `hidden(secret)` (the parts of the secret that are not in the planted rows by design).
 */
import { expect } from 'vitest';
import { defenses } from '../../defenses/index.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';
import { cellKey, runCell, type CellDeps, type CellOutcome, type CellSpec, type DefenseFactory } from '../../src/pipeline/cell.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { Rng } from '../../src/rng.js';
import type { Defense, Row } from '../../src/types.js';
import { deepFreeze, memoryLogger } from '../pipeline/doubles.js';
import { instrumentingAttacks, reachable } from '../../src/check/index.js';
import { quiet, sampleRows } from './fixtures.js';

/** Every object and every string reachable from `roots` (src/check's walker: the rule `vtune-bench check` applies). */
export function walk(roots: unknown[]): { objects: Set<unknown>; strings: Set<string> } {
  const strings = new Set<string>();
  return { objects: reachable(roots, strings), strings };
}

/** Pure and seeded planting (see the header). */
export async function checkPureAndSeeded(make: (options: Record<string, unknown>) => Defense<unknown>, rows = sampleRows(40, 'contract')): Promise<void> {
  const frozenRows = deepFreeze(rows.map((r) => ({ ...r })));
  const before = JSON.stringify(frozenRows);
  const a = await make({ seed: 'one' }).plant(frozenRows, { rng: new Rng('ctx'), log: quiet });
  expect(JSON.stringify(frozenRows)).toBe(before);
  const again = await make({ seed: 'one' }).plant(frozenRows, { rng: new Rng('another ctx'), log: quiet });
  expect(again).toEqual(a);
  const other = await make({ seed: 'two' }).plant(frozenRows, { rng: new Rng('ctx'), log: quiet });
  expect(other.secret).not.toEqual(a.secret);
  // Without a seed option the seed comes from the context's stream: same stream, same planting.
  const s1 = await make({}).plant(frozenRows, { rng: new Rng('stream'), log: quiet });
  const s2 = await make({}).plant(frozenRows, { rng: new Rng('stream'), log: quiet });
  const s3 = await make({}).plant(frozenRows, { rng: new Rng('other stream'), log: quiet });
  expect(s2).toEqual(s1);
  expect(s3.secret).not.toEqual(s1.secret);
  // The planted rows are plain rows: exactly { prompt, completion } strings, nothing else to carry a secret.
  for (const r of a.rows) expect(Object.keys(r).sort()).toEqual(['completion', 'prompt']);
  for (const r of a.rows) expect([typeof r.prompt, typeof r.completion]).toEqual(['string', 'string']);
}

/**
 * Runs one real cell of `defenseId` (honest attack, test-memorizer, built-in qa) with every provider-side hook
 * argument recorded, and checks the barrier. Returns the outcome and the secret for further checks. `factory`
 * replaces the registered one (to show that a leaky defense fails the check).
 */
export async function checkBarrier(
  defenseId: string,
  options: Record<string, unknown>,
  hidden: (secret: unknown, uploaded: readonly Row[]) => readonly string[],
  factory: DefenseFactory = defenses.get(defenseId) as DefenseFactory,
): Promise<{ outcome: CellOutcome; secret: unknown; uploaded: readonly Row[] }> {
  // The honest attack, instrumented through the pipeline's deps (src/check instrumentingAttacks: no registry entry is touched).
  const spy = instrumentingAttacks(cellPlugins(projectCatalog).attack);
  let secret: unknown;
  let uploaded: readonly Row[] = [];
  const provider = createTestMemorizerProvider();
  try {
    const deps: CellDeps = {
      ...cellPlugins(projectCatalog),
      attack: spy.attack,
      log: memoryLogger(),
      openProvider: () => provider,
      defense: () => (o) => {
        const real = factory(o);
        return {
          ...real,
          plant: async (rows, ctx) => {
            const planted = await real.plant(rows, ctx);
            secret = planted.secret;
            uploaded = planted.rows;
            return planted;
          },
        };
      },
    };
    const fields: Omit<CellSpec, 'key'> = {
      dataset: { spec: 'qa', size: 60, heldOut: 2 },
      model: 'test-memorizer:base',
      defense: { id: defenseId, options },
      attack: { id: 'honest', options: {} },
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      seed: 3,
      utility: false,
    };
    const outcome = await runCell({ key: cellKey(fields), ...fields }, deps);
    expect(secret).toBeDefined();
    expect(spy.args.length).toBeGreaterThan(0);
    expect(spy.purity).toEqual([]);
    const seen = walk(spy.args);
    expect(seen.objects.has(secret)).toBe(false);
    for (const v of Object.values(secret as object)) if (typeof v === 'object' && v !== null) expect(seen.objects.has(v)).toBe(false);
    const parts = hidden(secret, uploaded);
    expect(parts.length).toBeGreaterThan(0);
    // The walk did reach the uploaded rows' text (so a leak through them would be found) …
    expect(seen.strings.has(uploaded[0]!.completion)).toBe(true);
    // … and none of the hidden parts.
    const texts = [...seen.strings];
    for (const part of parts) expect(texts.some((t) => t.includes(part)), `provider side saw a hidden part of the secret`).toBe(false);
    return { outcome, secret, uploaded };
  } finally {
    await (await provider).close?.();
  }
}
