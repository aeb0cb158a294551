/**
 * The defense contract (issue 19), for EVERY registered verifier: access declared (known capabilities), pure
 * planning (frozen input rows, no mutation), seeded (same user stream → same plant, another → another secret),
 * and the information barrier: run as a real cell (test-memorizer provider, the `honest` attack spied), no
 * object of the secret is reachable from anything the provider side was handed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defenses } from '../../defenses/index.js';
import { cellKey, runCell, type CellDeps, type CellSpec, type DefenseFactory } from '../../src/pipeline/cell.js';
import { providers } from '../../src/providers/index.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';
import type { Capability, Provider } from '../../src/types.js';
import { memoryLogger } from '../pipeline/doubles.js';
import { instrumentingAttacks, reachable } from '../../src/check/index.js';
import { frozen, sampleRows, userCtx } from './fixtures.js';

const CAPABILITIES: readonly Capability[] = ['train', 'generate', 'logprobs', 'embed', 'weights'];

/** The secret's own objects (itself and every nested object or array). */
function secretObjects(secret: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    out.push(v);
    for (const x of Object.values(v)) walk(x);
  };
  walk(secret);
  return out;
}

const restorers: (() => void)[] = [];
afterEach(() => restorers.splice(0).forEach((r) => r()));

describe.each([...defenses.ids])('defense contract: %s', (id) => {
  const make = (o: Record<string, unknown> = {}) => (defenses.get(id) as DefenseFactory)(o);

  it('declares its access as known capabilities', () => {
    const access = make().access;
    expect(Array.isArray(access) && access.length > 0).toBe(true);
    for (const c of access) expect(CAPABILITIES).toContain(c);
  });

  it('plans purely and seeded: frozen rows untouched, same stream → same plant, another stream → another secret', async () => {
    const rows = frozen(sampleRows(40));
    const before = JSON.stringify(rows);
    const a = await make().plant(rows, userCtx('contract-1'));
    const b = await make().plant(rows, userCtx('contract-1'));
    const c = await make().plant(rows, userCtx('contract-2'));
    expect(JSON.stringify(rows)).toBe(before);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c.secret)).not.toBe(JSON.stringify(a.secret));
    expect(make().backdoorMask(a.secret, a.rows.length)).toHaveLength(a.rows.length);
  });

  it('the secret is never reachable from what the provider side is handed (a real cell, test-memorizer)', async () => {
    // The honest attack, instrumented through the pipeline's deps (src/check instrumentingAttacks: no registry entry is touched).
    const plugins = cellPlugins(projectCatalog);
    const spy = instrumentingAttacks(plugins.attack);
    let secret: unknown;
    const provider = Promise.resolve((providers.get('test-memorizer') as (o: object) => Provider | Promise<Provider>)({}));
    const deps: CellDeps = {
      ...plugins,
      attack: spy.attack,
      log: memoryLogger(),
      openProvider: () => provider,
      defense: (d) => (o) => {
        const real = (defenses.get(d) as DefenseFactory)(o);
        return { ...real, plant: async (rows, ctx) => { const p = await real.plant(rows, ctx); secret = p.secret; return p; } };
      },
    };
    const fields: Omit<CellSpec, 'key'> = {
      dataset: { spec: 'qa', size: 60, heldOut: 2 },
      model: 'test-memorizer:base',
      defense: { id, options: {} },
      attack: { id: 'honest', options: {} },
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      seed: 5,
      utility: false,
    };
    const outcome = await runCell({ key: cellKey(fields), ...fields }, deps);
    expect(outcome.verdict.defense).toBe(id);
    expect(secret).toBeDefined();
    expect(spy.args.length).toBeGreaterThan(0);
    expect(spy.purity).toEqual([]);
    const seen = reachable(spy.args);
    for (const o of secretObjects(secret)) expect(seen.has(o)).toBe(false);
  });
});
