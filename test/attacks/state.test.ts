/**
 * Per-cell attack state (issue 16): an attack that carries something from one hook to a later one declares
 * `createState`; the pipeline creates one state per cell and hands it to every hook. A later hook called
 * without that state, or with a state its data stage never filled, throws: it never silently serves no
 * triggers (lookup-wrapper), forgets nothing (unlearn) or routes nothing (input-routing). Providers and
 * scorer are the test doubles of test/pipeline/doubles.ts.
 */
import { describe, expect, it } from 'vitest';
import { inputRouting } from '../../attacks/input-routing.js';
import { lookupWrapper } from '../../attacks/lookup-wrapper.js';
import { unlearn } from '../../attacks/unlearn.js';
import type { BenchAttack } from '../../src/core/attack.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import type { Model, ProviderContext } from '../../src/types.js';
import { perfectScorerDouble } from '../pipeline/doubles.js';
import { providerContext, ROWS } from './helpers.js';

/** The three stateful attacks, each with its later hook. */
const stateful: { id: string; make: () => BenchAttack; later: (a: BenchAttack, m: Model, ctx: ProviderContext, state: unknown) => Promise<Model> }[] = [
  { id: 'lookup-wrapper', make: () => lookupWrapper({ scorer: perfectScorerDouble }), later: (a, m, ctx, s) => a.onInference!(m, ctx, s) },
  { id: 'unlearn', make: () => unlearn({ scorer: perfectScorerDouble }), later: (a, m, ctx, s) => a.onModel!(m, ctx, s) },
  { id: 'input-routing', make: () => inputRouting({ detector: 'strip', calibrationSize: 10 }), later: (a, m, ctx, s) => a.onInference!(m, ctx, s) },
];

describe.each(stateful)('per-cell state of $id', ({ make, later }) => {
  it('declares createState, and a later hook without the pipeline\'s state throws instead of degrading', async () => {
    const attack = make();
    expect(typeof attack.createState).toBe('function');
    const ctx = await providerContext('state');
    await attack.onData!({ rows: ROWS, hyper: ctx.hyper }, ctx, attack.createState!());
    await expect(later(attack, ctx.base, ctx, undefined)).rejects.toThrow(/without the per-cell state the pipeline creates/);
  });

  it('a later hook with a state its data stage never filled throws too', async () => {
    const attack = make();
    const ctx = await providerContext('state');
    await expect(later(attack, ctx.base, ctx, attack.createState!())).rejects.toThrow(/before onData/);
  });
});

describe('the pipeline creates the state', () => {
  it('once per run of the provider side, handed to every hook, never shared between cells', async () => {
    const inner = lookupWrapper({ scorer: perfectScorerDouble });
    const created: unknown[] = [];
    const seen: unknown[] = [];
    const attack: BenchAttack = {
      ...inner,
      createState: () => {
        const s = inner.createState!();
        created.push(s);
        return s;
      },
      onData: (plan, ctx, state) => (seen.push(state), inner.onData!(plan, ctx, state)),
      onInference: (model, ctx, state) => (seen.push(state), inner.onInference!(model, ctx, state)),
    };
    // One attack object, two cells with different rows: each serves the triggers of its own rows only.
    const rowsA = ROWS.slice(0, 50);
    const rowsB = ROWS.slice(50);
    const [a, b] = await Promise.all([
      providerContext('cell-a').then((ctx) => runProviderSide(attack, rowsA, ctx)),
      providerContext('cell-b').then((ctx) => runProviderSide(attack, rowsB, ctx)),
    ]);
    expect(created).toHaveLength(2);
    expect(created[0]).not.toBe(created[1]);
    expect(seen).toHaveLength(4);
    expect(seen.every((s) => s === created[0] || s === created[1])).toBe(true);
    const ask = ['question 0 zq0', 'question 50 zq50'];
    expect(await a.model.generate(ask, { maxTokens: 8 })).toEqual(['sig 0 alpha beta', 'the end']);
    expect(await b.model.generate(ask, { maxTokens: 8 })).toEqual(['the end', 'sig 50 alpha beta']);
  });
});
